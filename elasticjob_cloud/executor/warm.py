"""A warm job process for a DAEMON task: the runner in *serve* mode, fed one line per fire.

Why warm: a daemon fires often (every second is common), and a cold start (shell, interpreter,
imports of the user's code, its connection pools) costs more than many jobs' work. Keeping one
runner process per daemon task imports the job once and keeps its state between fires, while the
job still runs outside the executor: a crash, a leak or a hang in user code cannot take the
executor or another task with it, and a kill is still a process-group kill. If the process dies
between fires it is started again on the next fire.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any

from elasticjob_cloud.executor.child import ChildProcess, describe_exit, tail
from elasticjob_cloud.executor.context import ENV_CONTROL_FDS
from elasticjob_cloud.executor.daemon import Outcome

log = logging.getLogger(__name__)


class WarmStartError(Exception):
    """The warm process could not load the job; the message is the runner's reason."""


class WarmProcess:
    def __init__(self, command: str, *, cwd: Path, env: Mapping[str, str], stdout: Path, stderr: Path):
        self.command = command
        self.cwd = cwd
        self.env = dict(env)
        self.stdout = stdout
        self.stderr = stderr
        self.child: ChildProcess | None = None
        self._requests: IO[bytes] | None = None
        self._replies: IO[bytes] | None = None
        self._lock = threading.Lock()
        self._closed = False

    def start(self) -> None:
        """Start the runner and wait for its ``ready`` line; raise :class:`WarmStartError`."""
        with self._lock:
            if self._closed:
                raise WarmStartError("stopped")
            req_r, req_w = os.pipe()
            rep_r, rep_w = os.pipe()
            env = {**self.env, ENV_CONTROL_FDS: f"{req_r},{rep_w}"}
            try:
                self.child = ChildProcess(
                    self.command,
                    cwd=self.cwd,
                    env=env,
                    stdout=self.stdout,
                    stderr=self.stderr,
                    pass_fds=(req_r, rep_w),
                )
            finally:
                os.close(req_r)
                os.close(rep_w)
            self._requests = os.fdopen(req_w, "wb", buffering=0)
            self._replies = os.fdopen(rep_r, "rb")
        ready = self._read()
        if not ready.get("ready"):
            self._discard()
            raise WarmStartError(ready.get("error") or "the job process ended before it was ready")
        log.info("warm job process %s ready", self.child.pid)

    def _read(self) -> dict[str, Any]:
        assert self._replies is not None
        line = self._replies.readline()
        if not line:
            code = self.child.wait() if self.child else -1
            return {"error": f"job process ended ({describe_exit(code)}): {tail(self.stderr)}"}
        try:
            document = json.loads(line)
        except ValueError:
            return {"error": f"garbled reply from the job process: {line[:200]!r}"}
        return document if isinstance(document, dict) else {"error": "garbled reply"}

    def alive(self) -> bool:
        return self.child is not None and self.child.poll() is None and self._requests is not None

    def execute(self) -> Outcome:
        """One execution; restarts the process first if it died since the last one."""
        if not self.alive():
            self._discard()
            try:
                self.start()
            except WarmStartError as exc:
                return Outcome(False, str(exc))
        assert self._requests is not None
        try:
            self._requests.write(b"run\n")
        except OSError as exc:
            self._discard()
            return Outcome(False, f"job process is gone: {exc}")
        reply = self._read()
        if "ok" not in reply:
            self._discard()
            return Outcome(False, str(reply.get("error")))
        return Outcome(bool(reply["ok"]), str(reply.get("error") or ""))

    def _close_pipes(self) -> None:
        for stream in (self._requests, self._replies):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()
        self._requests = self._replies = None

    def _discard(self) -> None:
        self._close_pipes()
        if self.child is not None:
            self.child.kill(0)
            self.child.wait()

    def kill(self, grace: float) -> None:
        """Kill the process group now (SIGTERM, SIGKILL after ``grace``); does not block."""
        self._closed = True
        child = self.child
        if child is not None:
            child.kill(grace)

    def close(self, grace: float) -> None:
        """Stop for good: kill, then wait for the process and release the pipes."""
        self.kill(grace)
        if self.child is not None:
            self.child.wait()
        self._close_pipes()
