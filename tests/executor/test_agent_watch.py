"""The executor leaves when its agent stays away longer than MESOS_RECOVERY_TIMEOUT."""

import threading

import pytest

from elasticjob_cloud.executor.driver import DEFAULT_RECOVERY_TIMEOUT, AgentWatch, parse_duration
from tests.support import wait_until


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("15mins", 900.0), ("5secs", 5.0), ("0.5hrs", 1800.0), ("250ms", 0.25), ("2days", 172800.0)],
)
def test_mesos_durations(text, seconds):
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", [None, "", "15", "mins", "5 parsecs", "-1secs"])
def test_unreadable_durations(text):
    assert parse_duration(text) is None


class ExitRecorder:
    def __init__(self):
        self.reasons = []
        self.called = threading.Event()

    def begin_exit(self, reason):
        self.reasons.append(reason)
        self.called.set()


def test_an_agent_that_stays_away_makes_the_executor_exit():
    service = ExitRecorder()
    watch = AgentWatch(service, {"MESOS_RECOVERY_TIMEOUT": "50ms"})
    watch.lost()
    wait_until(service.called.is_set, 5, message="the exit")
    assert "did not come back" in service.reasons[0]


def test_an_agent_that_comes_back_in_time_keeps_the_executor():
    service = ExitRecorder()
    watch = AgentWatch(service, {"MESOS_RECOVERY_TIMEOUT": "200ms"})
    watch.lost()
    watch.back()
    assert not service.called.wait(0.5)


def test_without_the_variable_the_agent_default_applies():
    assert AgentWatch(ExitRecorder(), {}).timeout == DEFAULT_RECOVERY_TIMEOUT


def test_an_expired_watch_stops_update_retries_first():
    class Reporter:
        closed = False

        def close(self):
            self.closed = True

    service, reporter = ExitRecorder(), Reporter()
    watch = AgentWatch(service, {"MESOS_RECOVERY_TIMEOUT": "10ms"}, reporter)
    watch.lost()
    wait_until(service.called.is_set, 5, message="the exit")
    assert reporter.closed
