"""A private PostgreSQL server: used by the test suite and the trace benchmark.

Runs Debian's ``postgresql`` binaries (``initdb``, ``postgres``) on a loopback port with a temp data
directory, and stops it by PID (``stop`` keeps the data: ``start`` again resumes the same database, as
an outage does). As root (CI), the server runs as the ``postgres`` system user, since PostgreSQL
refuses to run as root. Production points ``event_trace_rdb_url`` at a real server instead.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path


class PostgresStartError(RuntimeError):
    """initdb or the server failed (package missing, port clash)."""


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def postgres_bin() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        raise PostgresStartError("PostgreSQL binaries not found: run scripts/install.sh")
    return Path(found[-1]).parent


class PostgresServer:
    """One server on ``host:port``, database ``trace``, user ``postgres`` trusted on loopback."""

    def __init__(self, port: int | None = None, data_dir: str | None = None, host: str = "127.0.0.1"):
        self.host = host
        self.port = port or free_port(host)
        self._own_dir = data_dir is None
        self.base = Path(data_dir or tempfile.mkdtemp(prefix="ejc-pg-"))
        self.data_dir = self.base / "data"
        self._process: subprocess.Popen[bytes] | None = None
        self._user = "postgres" if os.geteuid() == 0 else None

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@{self.host}:{self.port}/trace"

    def _run(self, *args: str) -> None:
        result = subprocess.run(args, user=self._user, capture_output=True, check=False)
        if result.returncode != 0:
            raise PostgresStartError(f"{args[0]} failed: {result.stderr.decode(errors='replace')[-2000:]}")

    def _chown(self, path: Path) -> None:
        if self._user is not None:
            entry = pwd.getpwnam(self._user)
            os.chown(path, entry.pw_uid, entry.pw_gid)

    def start(self, timeout: float = 30.0) -> PostgresServer:
        binaries = postgres_bin()
        self.base.mkdir(parents=True, exist_ok=True)
        self._chown(self.base)
        fresh = not (self.data_dir / "PG_VERSION").exists()
        if fresh:
            self._run(
                str(binaries / "initdb"), "-D", str(self.data_dir), "-U", "postgres", "-A", "trust",
                "-E", "UTF8", "--no-sync",
            )  # fmt: skip
        command = [
            str(binaries / "postgres"), "-D", str(self.data_dir), "-p", str(self.port),
            "-h", self.host, "-k", str(self.base), "-c", "fsync=off",
            "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
            "-c", "max_connections=50", "-c", "shared_buffers=64MB",
        ]  # fmt: skip
        log = open(self.base / "postgres.log", "ab")  # noqa: SIM115  (the child keeps it open)
        try:
            self._process = subprocess.Popen(
                command,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                user=self._user,
            )
        finally:
            log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise PostgresStartError(f"postgres exited; see {self.base}/postgres.log")
            if self._ready():
                if fresh:
                    self._psql("CREATE DATABASE trace")
                return self
            time.sleep(0.1)
        self.stop()
        raise PostgresStartError(f"PostgreSQL did not answer on {self.host}:{self.port} within {timeout}s")

    def _ready(self) -> bool:
        result = subprocess.run(
            [str(postgres_bin() / "pg_isready"), "-h", self.host, "-p", str(self.port), "-t", "1"],
            capture_output=True,
            check=False,
        )
        return result.returncode == 0

    def _psql(self, sql: str) -> None:
        self._run(
            str(postgres_bin() / "psql"), "-h", self.host, "-p", str(self.port), "-U", "postgres",
            "-d", "postgres", "-v", "ON_ERROR_STOP=1", "-c", sql,
        )  # fmt: skip

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def stop(self, keep_data: bool = True) -> None:
        """Fast shutdown by PID (SIGINT), then SIGKILL if it lingers."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        if not keep_data and self._own_dir:
            shutil.rmtree(self.base, ignore_errors=True)

    def __enter__(self) -> PostgresServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop(keep_data=False)
