"""The DAEMON cron loop: fire times, misfire, sampling, reporting (fake clock; real Quartz cron)."""

from __future__ import annotations

import itertools
import threading
import time
from datetime import UTC, datetime, timedelta

from elasticjob_cloud.core.taskdata import JOB_FAILURE_PREFIX
from elasticjob_cloud.executor.daemon import DaemonSchedule, Outcome, cron_next_fire, run_daemon

T0 = datetime(2026, 1, 1, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


def every(seconds: int):
    def next_fire(after: datetime) -> datetime:
        elapsed = (after - T0).total_seconds()
        return T0 + timedelta(seconds=(int(elapsed // seconds) + 1) * seconds)

    return next_fire


def make(
    clock: Clock,
    *,
    misfire: bool,
    sampling: int = 0,
    slow_first: float = 0.0,
    fail_on: frozenset[int] = frozenset(),
):
    reports: list[str] = []
    runs: list[datetime] = []

    def execute() -> Outcome:
        runs.append(clock.now)
        if len(runs) == 1:
            clock.now += timedelta(seconds=slow_first)
        return Outcome(len(runs) not in fail_on, "boom" if len(runs) in fail_on else "")

    schedule = DaemonSchedule(every(10), clock, execute, reports.append, misfire=misfire, sampling=sampling)
    return schedule, reports, runs


def drive(schedule: DaemonSchedule, clock: Clock, until: datetime) -> None:
    """What run_daemon does, with the waiting replaced by advancing the fake clock."""
    while clock.now < until:
        delay = schedule.tick()
        clock.now += timedelta(seconds=delay)


def test_fires_on_schedule_and_reports_begin_complete() -> None:
    clock = Clock()
    schedule, reports, runs = make(clock, misfire=True)
    assert schedule.tick() == 10.0  # nothing due yet
    drive(schedule, clock, T0 + timedelta(seconds=35))
    assert runs == [T0 + timedelta(seconds=s) for s in (10, 20, 30)]
    assert reports == ["BEGIN", "COMPLETE"] * 3


def test_misfire_true_runs_once_right_after_a_long_execution() -> None:
    clock = Clock()
    schedule, _, runs = make(clock, misfire=True, slow_first=25)  # covers the fires at 20 and 30
    drive(schedule, clock, T0 + timedelta(seconds=36))
    assert runs == [T0 + timedelta(seconds=10), T0 + timedelta(seconds=35)]
    assert schedule.skipped == 1  # two missed fires coalesced into one catch-up execution


def test_misfire_false_skips_fires_during_an_execution() -> None:
    clock = Clock()
    schedule, _, runs = make(clock, misfire=False, slow_first=25)
    drive(schedule, clock, T0 + timedelta(seconds=41))
    assert runs == [T0 + timedelta(seconds=10), T0 + timedelta(seconds=40)]
    assert schedule.skipped == 2


def test_sampling_reports_every_nth_execution_and_every_failure() -> None:
    clock = Clock()
    schedule, reports, runs = make(clock, misfire=True, sampling=3, fail_on=frozenset({2}))
    drive(schedule, clock, T0 + timedelta(seconds=65))
    assert len(runs) == 6
    assert reports == [JOB_FAILURE_PREFIX + "boom", "BEGIN", "COMPLETE", "BEGIN", "COMPLETE"]


def test_sampling_one_and_zero_trace_everything() -> None:
    for sampling in (0, 1):
        clock = Clock()
        schedule, reports, _ = make(clock, misfire=True, sampling=sampling)
        drive(schedule, clock, T0 + timedelta(seconds=25))
        assert reports == ["BEGIN", "COMPLETE"] * 2


def test_a_broken_execution_path_does_not_end_the_loop() -> None:
    clock = Clock()
    reports: list[str] = []
    calls = []

    def execute() -> Outcome:
        calls.append(1)
        raise OSError("pipe broke")

    schedule = DaemonSchedule(every(10), clock, execute, reports.append, misfire=True)
    drive(schedule, clock, T0 + timedelta(seconds=25))
    assert len(calls) == 2
    assert reports == ["BEGIN", JOB_FAILURE_PREFIX + "OSError: pipe broke"] * 2


def test_an_exhausted_schedule_idles() -> None:
    clock = Clock()
    schedule = DaemonSchedule(lambda after: None, clock, lambda: Outcome(True), lambda m: None, misfire=True)
    assert schedule.next_fire_time is None
    assert schedule.tick() > 60


def test_real_quartz_cron_every_second_with_run_daemon() -> None:
    """``* * * * * ?`` through the project's cron, real time: about one execution per second."""
    next_fire = cron_next_fire("* * * * * ?", "Asia/Shanghai")
    executions: list[datetime] = []
    stopped = threading.Event()

    def execute() -> Outcome:
        executions.append(datetime.now(UTC))
        if len(executions) >= 3:
            stopped.set()
        return Outcome(True)

    schedule = DaemonSchedule(next_fire, lambda: datetime.now(UTC), execute, lambda m: None, misfire=False)
    started = time.monotonic()
    thread = threading.Thread(target=run_daemon, args=(schedule, stopped), daemon=True)
    thread.start()
    thread.join(10)
    assert not thread.is_alive()
    assert len(executions) == 3
    assert all(e.microsecond < 300_000 for e in executions)  # on (or just after) the second boundary
    assert 1.0 <= time.monotonic() - started < 5.0
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(executions)]
    assert all(0.7 < gap < 1.3 for gap in gaps)


def test_bad_cron_raises_invalid_config() -> None:
    import pytest

    from elasticjob_cloud.exceptions import InvalidConfig

    with pytest.raises(InvalidConfig):
        cron_next_fire("not a cron", "")
