"""A job process in its own process group: start, wait, kill (SIGTERM, then SIGKILL after a grace).

Every job process leads a new session, so that a kill reaches whatever the job started, and so
that the pymesos executor's own ``killpg(0)`` on shutdown never hits a job by accident: the
executor kills its children itself (:meth:`ChildProcess.kill`) before it exits. With
``die_with_parent`` (a command task, which the command executor may SIGKILL after its grace), the
kernel kills the job process when its starter dies (``PR_SET_PDEATHSIG``, Linux); the thread that
starts such a job waits for it, as that signal follows the starting thread. It is not the default:
a ``preexec_fn`` makes every start a full fork running Python in the child (8 ms instead of 1-3 ms
for ``true``, a fifth of a warm TRANSIENT task's start).
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import logging
import os
import signal
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

log = logging.getLogger(__name__)

GROUP_EXIT_TIMEOUT = 5.0
PR_SET_PDEATHSIG = 1


def _load_libc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    try:
        return ctypes.CDLL(name, use_errno=True) if name else None
    except OSError:
        return None


_LIBC = _load_libc()


def _die_with_parent() -> None:
    """In the child, before exec: SIGKILL when the process that started it dies (Linux only)."""
    if _LIBC is not None and hasattr(_LIBC, "prctl"):
        _LIBC.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def group_members(pgid: int) -> list[int]:
    """Live (non-zombie) processes of process group ``pgid``, from ``/proc`` (Linux agents)."""
    members = []
    try:
        entries = os.listdir("/proc")
    except OSError:
        return []
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as handle:
                fields = handle.read().rsplit(b")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if len(fields) > 2 and int(fields[2]) == pgid and fields[0] not in (b"Z", b"X"):
            members.append(int(entry))
    return members


class ChildProcess:
    """One started job process; thread-safe ``kill`` and ``wait``."""

    def __init__(
        self,
        command: str | Sequence[str],
        *,
        cwd: Path,
        env: Mapping[str, str],
        stdout: Path,
        stderr: Path,
        pass_fds: Sequence[int] = (),
        die_with_parent: bool = False,
    ):
        shell = isinstance(command, str)
        with open(stdout, "ab") as out, open(stderr, "ab") as err:
            self.popen = subprocess.Popen(
                command,
                shell=shell,
                cwd=cwd,
                env=dict(env),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                start_new_session=True,
                pass_fds=tuple(pass_fds),
                preexec_fn=_die_with_parent if die_with_parent else None,
            )
        self.pid = self.popen.pid
        self._lock = threading.Lock()
        self._killing = False

    def poll(self) -> int | None:
        return self.popen.poll()

    def wait(self, timeout: float | None = None) -> int:
        """Wait for the leader, then kill what it left in its group and wait until that is gone.

        Only then is the job over: ``TASK_KILLED`` / ``TASK_FINISHED`` never precede the death of
        a process the job started.
        """
        code = self.popen.wait(timeout)
        self._signal_group(signal.SIGKILL)
        deadline = time.monotonic() + GROUP_EXIT_TIMEOUT
        while group_members(self.pid) and time.monotonic() < deadline:
            time.sleep(0.005)
        return code

    def _signal_group(self, signum: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signum)

    def kill(self, grace: float) -> None:
        """SIGTERM the group, SIGKILL it ``grace`` seconds later if the leader still runs.

        ``grace <= 0`` sends SIGKILL at once, before returning (the last-resort path).

        Does not block: the SIGKILL is sent from a helper thread, so a caller (a pymesos
        callback) returns at once. The caller learns the end from :meth:`wait`.
        """
        if self.popen.poll() is not None or grace <= 0:
            self._killing = True
            self._signal_group(signal.SIGKILL)
            return
        with self._lock:
            if self._killing:
                return
            self._killing = True
        self._signal_group(signal.SIGTERM)
        threading.Thread(target=self._escalate, args=(grace,), name=f"kill-{self.pid}", daemon=True).start()

    def _escalate(self, grace: float) -> None:
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            if self.popen.poll() is not None:
                break
            time.sleep(min(0.05, max(deadline - time.monotonic(), 0)))
        self._signal_group(signal.SIGKILL)

    @property
    def killed(self) -> bool:
        return self._killing


def describe_exit(code: int) -> str:
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"


def tail(path: Path, limit: int = 400) -> str:
    """The last non-empty line of a log file, shortened: context for a failure message."""
    try:
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            handle.seek(max(size - 4096, 0))
            lines = [ln for ln in handle.read().decode("utf-8", "replace").splitlines() if ln.strip()]
    except OSError:
        return ""
    return lines[-1].strip()[:limit] if lines else ""
