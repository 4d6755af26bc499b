"""The pymesos seam: callbacks never raise, status updates are well formed and retried."""

from __future__ import annotations

import base64
import uuid
from typing import Any

from elasticjob_cloud.executor.driver import DriverReporter, _Callbacks


class Exploding:
    """A service whose every entry point raises: the callbacks must swallow it."""

    def __getattr__(self, name: str) -> Any:
        def boom(*args: Any) -> None:
            raise RuntimeError(f"{name} broke")

        return boom


def test_callbacks_never_raise() -> None:
    callbacks = _Callbacks(Exploding())  # type: ignore[arg-type]
    callbacks.registered(None, {}, {}, {})
    callbacks.launchTask(None, {"task_id": {"value": "t"}})
    callbacks.launchTaskGroup(None, [{"task_id": {"value": "t"}}])
    callbacks.killTask(None, {"value": "t"})
    callbacks.frameworkMessage(None, "U1RPUA==")
    callbacks.shutdown(None)
    callbacks.error(None, "agent error")
    callbacks.killTask(None, None)  # malformed input too


class FlakyDriver:
    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.sent: list[dict[str, Any]] = []
        self.aborted = False

    def sendStatusUpdate(self, status: dict[str, Any]) -> None:
        if self.failures:
            self.failures -= 1
            raise RuntimeError("Not connected yet")
        self.sent.append(status)


def test_status_updates_are_retried_until_the_agent_takes_them() -> None:
    reporter = DriverReporter()
    reporter.driver = FlakyDriver(failures=2)
    reporter.update("t1", "TASK_FAILED", "JOB_FAILURE: boom")
    [status] = reporter.driver.sent
    assert status["task_id"] == {"value": "t1"}
    assert status["state"] == "TASK_FAILED" and status["message"] == "JOB_FAILURE: boom"
    assert len(uuid.UUID(bytes=base64.b64decode(status["uuid"])).hex) == 32


def test_no_retries_once_the_driver_is_gone() -> None:
    reporter = DriverReporter()
    reporter.driver = FlakyDriver(failures=1000)
    reporter.driver.aborted = True
    reporter.update("t1", "TASK_KILLED")
    assert reporter.driver.sent == []
