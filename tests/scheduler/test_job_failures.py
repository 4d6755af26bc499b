"""End to end, jobs that fail: a failing TRANSIENT SCRIPT job with ``failover: true`` runs once per
trigger (its own non-zero exit under the Mesos command executor is a failure, not a lost task), and
every end of a task but TASK_FINISHED is logged at WARNING with the reason.

Real ZooKeeper, the local Mesos with its command executor, the pymesos drivers (see ``schedkit``).
"""

from __future__ import annotations

import itertools
import logging
import time

import pytest

from tests.scheduler.schedkit import FAR_FUTURE
from tests.support import wait_until

pytestmark = pytest.mark.slow


def failloop(scheduler, name: str = "failloop") -> None:
    """The job of issue #12: ``false`` as a failover-enabled TRANSIENT SCRIPT job."""
    scheduler.job(
        name,
        jobType="SCRIPT",
        jobClass="",
        scriptCommandLine="false",
        cron=FAR_FUTURE,
        cpuCount=0.1,
        memoryMB=16.0,
        failover=True,
    )


def test_a_failing_script_job_triggered_once_fails_once_and_is_not_failed_over(scheduler, caplog) -> None:
    failloop(scheduler)
    with caplog.at_level(logging.WARNING, logger="elasticjob_cloud.mesos.statuses"):
        scheduler.lifecycle.trigger("failloop")

        def failed() -> list[str]:
            with scheduler.events.lock:
                return [t for t, state, _ in scheduler.events.updates if state == "TASK_FAILED"]

        wait_until(lambda: len(failed()) >= 1, 30, message="the first run to fail")
        # The positive event that bounds "nothing else happened": a second trigger runs and fails. A
        # failover of the first would have been launched before it (failover shards go first, and a
        # run of a job waits while a task of the job runs).
        scheduler.lifecycle.trigger("failloop")
        wait_until(lambda: len(failed()) >= 2, 30, message="the second run to fail")
        wait_until(lambda: not scheduler.running("failloop"), 10, message="no task of the job left")
    launched = scheduler.events.launched_of("failloop")
    assert [t.split("@-@")[2] for t in launched] == ["READY", "READY"], launched
    assert failed() == launched
    assert scheduler.registry.failover.entries() == []
    assert scheduler.engine.stats.failovers == 0
    for task_id in launched:
        [line] = [r.getMessage() for r in caplog.records if task_id in r.getMessage()]
        assert line.startswith(f"TASK_FAILED: job failloop shard 0 task {task_id} on agent "), line
        assert "Command exited with status 1" in line and "not failed over" in line


def test_a_daemon_that_keeps_failing_is_relaunched_ever_later(scheduler, tmp_path) -> None:
    """A DAEMON job is desired state, so its failure is failed over; but its app cannot be fetched,
    every task fails, and the relaunches wait 1 s, 2 s, 4 s ... instead of looping."""
    scheduler.app("broken", appURL=(tmp_path / "missing.tar.gz").as_uri())
    scheduler.job("stubborn", appName="broken", jobExecutionType="DAEMON", cron="0/2 * * * * ?")
    seen: list[float] = []

    def launches() -> int:
        count = len(scheduler.events.launched_of("stubborn"))
        while len(seen) < count:
            seen.append(time.monotonic())
        return count

    wait_until(lambda: launches() >= 5, 30, 0.01, "five launches")
    scheduler.lifecycle.disable_job("stubborn")
    gaps = [b - a for a, b in itertools.pairwise(seen[:5])]
    # launch 2 is the first failover (at once); 3, 4 and 5 wait 1, 2 and 4 s after a failure
    assert gaps[1] >= 0.9 and gaps[2] >= 1.9 and gaps[3] >= 3.9, gaps
    types = [t.split("@-@")[2] for t in scheduler.events.launched_of("stubborn")[:5]]
    assert types == ["READY"] + ["FAILOVER"] * 4, types
