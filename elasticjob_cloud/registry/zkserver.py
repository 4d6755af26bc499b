"""A private ZooKeeper server process: used by ``standalone`` and by the test suite.

Runs Debian's ``zookeeper`` package (``/usr/share/java/zookeeper.jar``) as
``ZooKeeperServerMain`` on a loopback port with its own data directory, and stops it by PID.
Production points ``zk_servers`` at a real ensemble instead.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO

ZOOKEEPER_JAR = Path("/usr/share/java/zookeeper.jar")


def _parent_death_signal() -> Callable[[], None] | None:
    """Linux: a pre-exec hook that makes the server get SIGTERM when its starter dies (even by
    SIGKILL), so a private ZooKeeper never outlives ``standalone`` or a test run. ``prctl`` is
    resolved here, in the parent: a forked child of a threaded process must not load libraries.
    The "parent" is the starting thread, so start servers from a long-lived thread (the main one).
    """
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    return lambda: prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class ZooKeeperStartError(RuntimeError):
    """The server process did not come up (missing package, port clash, crash)."""


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that was free a moment ago (the usual race is acceptable for local use)."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def four_letter_word(host: str, port: int, word: bytes, timeout: float = 1.0) -> bytes:
    """Send a ZooKeeper four-letter command (``ruok``, ``srvr``…) and return the answer."""
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.sendall(word)
        chunks = []
        while chunk := sock.recv(4096):
            chunks.append(chunk)
        return b"".join(chunks)


class ZooKeeperServer:
    """One standalone ZooKeeper server on ``host:port`` with a private data directory."""

    def __init__(self, port: int | None = None, data_dir: str | None = None, host: str = "127.0.0.1"):
        self.host = host
        self.port = port or free_port(host)
        self._own_dir = data_dir is None
        self.data_dir = Path(data_dir or tempfile.mkdtemp(prefix="ejc-zk-"))
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def hosts(self) -> str:
        return f"{self.host}:{self.port}"

    def start(self, timeout: float = 30.0) -> ZooKeeperServer:
        if not ZOOKEEPER_JAR.exists():
            raise ZooKeeperStartError(f"{ZOOKEEPER_JAR} not found: run scripts/install.sh")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        config = self.data_dir / "zoo.cfg"
        config.write_text(
            "\n".join(
                [
                    "tickTime=500",
                    f"dataDir={self.data_dir / 'data'}",
                    f"clientPort={self.port}",
                    f"clientPortAddress={self.host}",
                    "admin.enableServer=false",
                    "minSessionTimeout=1000",
                    "maxSessionTimeout=60000",
                    "maxClientCnxns=0",
                    "4lw.commands.whitelist=*",
                    "",
                ]
            )
        )
        with open(self.data_dir / "zookeeper.log", "ab") as log:
            self._process = self._spawn(config, log)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:  # crashed: say where its log is
                raise ZooKeeperStartError(
                    f"ZooKeeper exited with {self._process.returncode}; see {self.data_dir}/zookeeper.log"
                )
            try:
                # ``ruok`` answers before the server serves; ``srvr`` reports a mode only once it does.
                if b"Mode:" in four_letter_word(self.host, self.port, b"srvr"):
                    return self
            except OSError:
                pass
            time.sleep(0.1)
        self.stop()
        raise ZooKeeperStartError(f"ZooKeeper did not answer on {self.hosts} within {timeout}s")

    @staticmethod
    def _spawn(config: Path, log: IO[bytes]) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [
                shutil.which("java") or "java",
                "-Xmx512m",
                # Short collector pauses: every pause is added to the request being served. The
                # serial collector paused 30-40 ms per young collection under 10,000 cron jobs
                # (a fire's write waited that long); G1 with a 5 ms target stays under ~15 ms.
                "-XX:+UseG1GC",
                "-XX:MaxGCPauseMillis=5",
                "-cp",
                str(ZOOKEEPER_JAR),
                "org.apache.zookeeper.server.ZooKeeperServerMain",
                str(config),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=_parent_death_signal(),
        )

    @property
    def pid(self) -> int | None:
        """The server JVM's process ID (fault tests pause it with SIGSTOP)."""
        return self._process.pid if self._process is not None else None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        if self._own_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)

    def __enter__(self) -> ZooKeeperServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
