"""The executor's behaviour, behind the pymesos callbacks: tasks, kills, STOP, idle exit.

Every entry point returns at once (pymesos callbacks must not block): tasks run on their own
threads, and the exit (STOP, idle timeout, agent shutdown) runs on a helper thread that kills the
tasks, waits until their processes are gone, stops the driver and then sets :attr:`exited`, which
the main thread waits for. There is one way out, so every path really ends the process.
"""

from __future__ import annotations

import base64
import binascii
import logging
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

from elasticjob_cloud.core.taskdata import STOP_MESSAGE, AppData, decode_app_data
from elasticjob_cloud.exceptions import InvalidConfig
from elasticjob_cloud.executor.archive import Limits
from elasticjob_cloud.executor.fetch import AppCache
from elasticjob_cloud.executor.task import TaskEnvironment, TaskRun
from elasticjob_cloud.executor.workspace import AppWorkspace

log = logging.getLogger(__name__)


class Reporter(Protocol):
    """What the service needs from the driver (a recording fake in unit tests)."""

    def update(self, task_id: str, state: str, message: str | None = None) -> None: ...

    def stop(self) -> None: ...


class ExecutorService:
    def __init__(
        self,
        reporter: Reporter,
        sandbox: Path,
        *,
        cache: AppCache,
        limits: Limits | None = None,
        kill_grace: float = 3.0,
        idle_timeout: float | None = None,
        shutdown_grace: float | None = None,
        task_env: TaskEnvironment | None = None,
    ):
        self.reporter = reporter
        self.sandbox = sandbox
        self.cache = cache
        self.limits = limits or Limits()
        self.kill_grace = kill_grace
        self.idle_timeout_override = idle_timeout
        self.shutdown_grace = shutdown_grace
        self.env = task_env or TaskEnvironment(sandbox=sandbox, workspace=None, kill_grace=kill_grace)
        self.app: AppData | None = None
        self.exited = threading.Event()
        self.exit_reason = ""
        self._lock = threading.Lock()
        self._tasks: dict[str, TaskRun] = {}
        self._exiting = False
        self._idle_since = time.monotonic()

    # -- pymesos callbacks (translated) -----------------------------------------------------------

    def registered(self, executor_info: Mapping[str, Any]) -> None:
        try:
            self.app = decode_app_data(executor_info.get("data") or "")
        except InvalidConfig as exc:
            log.error("ExecutorInfo.data is unusable, every task will fail: %s", exc.message)
            self.env.app_error = exc.message
            return
        self.env.workspace = AppWorkspace(self.app, self.sandbox, self.cache, self.limits)
        log.info("registered for app %s (%s)", self.app.app_name, self.app.app_url)
        self.env.workspace.prefetch()
        timeout = self.idle_timeout
        if timeout > 0:
            threading.Thread(target=self._watch_idle, args=(timeout,), name="idle-watch", daemon=True).start()

    @property
    def idle_timeout(self) -> float:
        if self.idle_timeout_override is not None:
            return self.idle_timeout_override
        return self.app.executor_idle_timeout_seconds if self.app else 0.0

    def launch(self, task_info: Mapping[str, Any]) -> None:
        task_id = str(task_info["task_id"]["value"])
        run = TaskRun(task_id, str(task_info.get("data") or ""), self.env, self._reporter_for(task_id))
        with self._lock:
            refused = self._exiting
            if not refused:
                self._tasks[task_id] = run
        if refused:
            log.warning("refusing task %s: the executor is exiting (%s)", task_id, self.exit_reason)
            # never started: lost (failed over), not a failure of the job
            self.reporter.update(task_id, "TASK_LOST", f"executor is exiting ({self.exit_reason})")
            return
        log.info("launching task %s", task_id)
        run.start()

    def kill(self, task_id: str) -> None:
        with self._lock:
            run = self._tasks.get(task_id)
        if run is None:
            log.warning("kill for unknown or finished task %s", task_id)
            return
        log.info("killing task %s", task_id)
        run.kill()

    def message(self, data: str) -> None:
        try:
            text = base64.b64decode(data or "").decode("utf-8", "replace").strip()
        except (binascii.Error, ValueError):
            text = ""
        if text == STOP_MESSAGE:
            self.begin_exit("STOP message (app removed)")
        else:
            log.warning("ignoring framework message %r", text[:100])

    def shutdown(self) -> None:
        """The agent's SHUTDOWN: it kills us after its grace period, so kill the jobs within half."""
        if self.shutdown_grace is not None:
            self.env.kill_grace = min(self.env.kill_grace, self.shutdown_grace / 2)
        self.begin_exit("shutdown by the agent")

    # -- internals --------------------------------------------------------------------------------

    def _reporter_for(self, task_id: str) -> Any:
        def report(state: str, message: str | None) -> None:
            self.reporter.update(task_id, state, message)
            if state != "TASK_RUNNING":
                self._finished(task_id)

        return report

    def _finished(self, task_id: str) -> None:
        with self._lock:
            self._tasks.pop(task_id, None)
            if not self._tasks:
                self._idle_since = time.monotonic()

    def running_tasks(self) -> list[str]:
        with self._lock:
            return list(self._tasks)

    def _watch_idle(self, timeout: float) -> None:
        while not self.exited.wait(min(timeout / 4, 1.0)):
            with self._lock:
                idle = not self._tasks and not self._exiting
                idle_for = time.monotonic() - self._idle_since
            if idle and idle_for >= timeout:
                self.begin_exit(f"idle for {idle_for:.1f} s (executor_idle_timeout_seconds={timeout:g})")
                return

    def begin_exit(self, reason: str) -> None:
        """Kill every task, stop the driver, set :attr:`exited` (once; on a helper thread)."""
        with self._lock:
            if self._exiting:
                return
            self._exiting = True
            self.exit_reason = reason
            runs = list(self._tasks.values())
        log.info("executor exiting: %s", reason)
        threading.Thread(target=self._exit, args=(runs,), name="executor-exit", daemon=True).start()

    def _exit(self, runs: list[TaskRun]) -> None:
        try:
            for run in runs:
                run.kill()
            deadline = time.monotonic() + self.env.kill_grace + 5.0
            for run in runs:
                run.thread.join(max(deadline - time.monotonic(), 0.1))
            try:
                self.reporter.stop()
            except Exception:
                log.exception("stopping the driver failed")
        finally:
            self.exited.set()

    def kill_all_now(self) -> None:
        """Last resort when the process is dying: SIGKILL every job process group."""
        with self._lock:
            runs = list(self._tasks.values())
        for run in runs:
            run.kill(grace=0.0)
