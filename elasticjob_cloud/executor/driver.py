"""The pymesos seam of the executor: the only module that imports pymesos on this side.

pymesos runs callbacks on its I/O thread and aborts the driver (re-raising in the main thread)
if one raises, so every callback here is wrapped, logs, and hands off to
:class:`~elasticjob_cloud.executor.service.ExecutorService`, whose entry points never block.
Import this module from the main thread only: pymesos installs a SIGINT handler on import.
"""

from __future__ import annotations

import logging
import os
import re
import signal
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from pymesos import Executor, MesosExecutorDriver, encode_data

from elasticjob_cloud.core.callbacks import guarded
from elasticjob_cloud.executor.service import ExecutorService

log = logging.getLogger(__name__)

SEND_DEADLINE = 30.0


_guarded = guarded(log, "executor")


DURATION_UNITS = {
    "ns": 1e-9,
    "us": 1e-6,
    "ms": 1e-3,
    "secs": 1.0,
    "mins": 60.0,
    "hrs": 3600.0,
    "days": 86400.0,
}
DEFAULT_RECOVERY_TIMEOUT = 15 * 60.0  # the Mesos agent's default recovery_timeout
DRIVER_JOIN_TIMEOUT = 5.0


def parse_duration(text: str | None) -> float | None:
    """A Mesos duration (``15mins``, ``5secs``, ``0.5hrs``) in seconds; None when unreadable."""
    match = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*([a-z]+)\s*", text or "")
    if match is None or match.group(2) not in DURATION_UNITS:
        return None
    return float(match.group(1)) * DURATION_UNITS[match.group(2)]


class AgentWatch:
    """Exit when the agent stays away longer than ``MESOS_RECOVERY_TIMEOUT`` (as Mesos executors do).

    A checkpointing executor outlives its agent for a while so a restarted agent can recover it; when
    the agent does not come back, the executor must not run on forever as an orphan with its jobs.
    """

    def __init__(self, service: ExecutorService, environ: Mapping[str, str], reporter: Any = None):
        self.service = service
        self.reporter = reporter
        self.timeout = parse_duration(environ.get("MESOS_RECOVERY_TIMEOUT")) or DEFAULT_RECOVERY_TIMEOUT
        self._timer: threading.Timer | None = None
        self._lock = threading.Lock()
        self.gone = False  # the agent did not come back: the executor is leaving

    def lost(self) -> None:
        with self._lock:
            if self._timer is None:
                self._timer = threading.Timer(self.timeout, self._expired)
                self._timer.daemon = True
                self._timer.start()

    def back(self) -> None:
        with self._lock:
            timer, self._timer = self._timer, None
        if timer is not None:
            timer.cancel()

    def _expired(self) -> None:
        self.gone = True
        if self.reporter is not None:  # no agent to send to: updates still being retried give up now
            self.reporter.close()
        self.service.begin_exit(f"the agent did not come back within {self.timeout:.0f}s")


class _Callbacks(Executor):
    def __init__(self, service: ExecutorService, watch: AgentWatch | None = None):
        self.service = service
        self.watch = watch

    @_guarded
    def registered(self, driver: Any, executor_info: Any, framework_info: Any, agent_info: Any) -> None:
        if self.watch is not None:
            self.watch.back()
        self.service.registered(executor_info)

    @_guarded
    def reregistered(self, driver: Any, agent_info: Any) -> None:
        if self.watch is not None:
            self.watch.back()
        log.info("re-registered with the agent")

    @_guarded
    def disconnected(self, driver: Any) -> None:
        log.warning("disconnected from the agent")
        if self.watch is not None:
            self.watch.lost()

    @_guarded
    def launchTask(self, driver: Any, task: Any) -> None:
        self.service.launch(task)

    @_guarded
    def launchTaskGroup(self, driver: Any, tasks: Any) -> None:
        for task in tasks:
            self.service.launch(task)

    @_guarded
    def killTask(self, driver: Any, task_id: Any) -> None:
        self.service.kill(str(task_id["value"]))

    @_guarded
    def frameworkMessage(self, driver: Any, message: Any) -> None:
        self.service.message(message)

    @_guarded
    def shutdown(self, driver: Any) -> None:
        self.service.shutdown()

    @_guarded
    def error(self, driver: Any, message: Any) -> None:
        log.error("agent reported an error: %s", message)


class DriverReporter:
    """Sends status updates through the driver, retrying while the agent connection is down."""

    def __init__(self) -> None:
        self.driver: Any = None
        self._stopped = threading.Event()

    def update(self, task_id: str, state: str, message: str | None = None) -> None:
        status: dict[str, Any] = {
            "task_id": {"value": task_id},
            "state": state,
            "uuid": encode_data(uuid.uuid4().bytes),
        }
        if message:
            status["message"] = message
        deadline = time.monotonic() + SEND_DEADLINE
        delay = 0.05
        while True:
            try:
                self.driver.sendStatusUpdate(dict(status))
                log.info("task %s: %s %s", task_id, state, message or "")
                return
            except Exception as exc:
                gone = self._stopped.is_set() or getattr(self.driver, "aborted", False)
                if gone or time.monotonic() + delay > deadline:
                    log.error("could not send %s for task %s: %s", state, task_id, exc)
                    return
                log.warning("sending %s for task %s failed, retrying: %s", state, task_id, exc)
                time.sleep(delay)
                delay = min(delay * 2, 2.0)

    def stop(self) -> None:
        self.close()
        self.driver.stop()

    def close(self) -> None:
        """No more retries: the driver is going away."""
        self._stopped.set()


def run(service_factory: Callable[[DriverReporter], ExecutorService]) -> int:
    """Run the executor until the service exits or the driver dies; return the exit code."""
    reporter = DriverReporter()
    service = service_factory(reporter)
    watch = AgentWatch(service, os.environ, reporter)
    watch.lost()  # until the first SUBSCRIBED: an agent that dies before that is never "disconnected"
    driver = MesosExecutorDriver(_Callbacks(service, watch), use_addict=False)
    # pymesos would SIGKILL its own process group after a disconnect or SHUTDOWN; the service
    # kills its job process groups itself and the main loop below always returns, so turn that off
    # (it would also turn a clean exit into a SIGKILL when MESOS_CHECKPOINT is unset).
    driver.local = True
    reporter.driver = driver
    signal.signal(signal.SIGTERM, lambda signum, frame: service.begin_exit("SIGTERM"))
    driver.start()
    code = 0
    try:
        while not service.exited.wait(0.5):
            if driver.aborted:
                service.begin_exit("the driver stopped")
                service.exited.wait(service.kill_grace + 10.0)
                break
    except BaseException:
        log.exception("executor main loop interrupted")
        service.kill_all_now()
        code = 1
    reporter.close()
    driver.stop()
    # pymesos's I/O thread (a daemon) may sleep in a reconnect back-off for many seconds when the
    # agent is gone: wait a little for it, never for the back-off, and not at all without an agent
    if not watch.gone:
        joiner = threading.Thread(target=driver.join, name="driver-join", daemon=True)
        joiner.start()
        joiner.join(DRIVER_JOIN_TIMEOUT)
    log.info("executor exits (%s)", service.exit_reason or "interrupted")
    return code
