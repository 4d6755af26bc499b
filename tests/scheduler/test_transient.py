"""End to end, TRANSIENT jobs: cron fires run every shard with its parameter, a trigger runs once,
and fires that come while a run is going are queued (misfire) or merged (no misfire).

Real ZooKeeper, the local Mesos, the pymesos drivers, the executor subprocess and the packed example
app; the example jobs record every execution (see ``schedkit``).
"""

from __future__ import annotations

import itertools
import time

import pytest

from tests.scheduler.schedkit import FAR_FUTURE, group_runs, stays_true
from tests.support import wait_until

pytestmark = pytest.mark.slow


def idle_between_fires(scheduler, job: str, shards: int) -> bool:
    """No task of ``job`` runs, none is queued, every run is whole, and the next even-second fire
    is not imminent (so a disable now cannot cut a run in half)."""
    return (
        not scheduler.running(job)
        and not scheduler.registry.ready.counts().get(job)
        and len(scheduler.records(job)) % shards == 0
        and 0.2 < time.time() % 2 < 1.4
    )


def test_cron_runs_every_shard_with_its_parameter_on_every_fire(scheduler) -> None:
    scheduler.job("hello", shardingTotalCount=3, shardingItemParameters="0=a,1=b,2=c", jobParameter="jp")
    wait_until(lambda: len(scheduler.records("hello")) >= 9, 20, message="three fires of three shards")
    wait_until(lambda: idle_between_fires(scheduler, "hello", 3), 10, message="a pause between fires")
    scheduler.lifecycle.disable_job("hello")
    wait_until(lambda: not scheduler.running("hello"), 10, message="no task of the job left")
    wait_until(lambda: not scheduler.zk_running(), 10, message="/state/running to be empty")

    records = scheduler.records("hello")
    runs = group_runs(records, 3)
    assert len(runs) >= 3
    for run in runs:
        assert {r.item: r.parameter for r in run} == {0: "a", 1: "b", 2: "c"}
        assert {r.job_parameter for r in run} == {"jp"}
        assert all(r.task_type == "READY" for r in run)
        assert max(r.start for r in run) - min(r.start for r in run) < 1.9  # one fire, not two
    assert len({r.task_id for r in records}) == len(records), "a task executed twice"
    assert {r.task_id for r in records} == set(scheduler.events.launched_of("hello"))
    starts = [min(r.start for r in run) for run in runs]
    assert all(b - a > 1.0 for a, b in itertools.pairwise(starts)), f"two runs for one fire: {starts}"
    # every fire the producer wrote ran exactly once, except one still queued when it was disabled
    pending = scheduler.registry.ready.counts().get("hello", 0)
    assert len(runs) == scheduler.fires("hello") - pending
    assert pending <= 1
    for task_id in scheduler.events.launched_of("hello"):
        assert scheduler.events.states(task_id)[-1] == "TASK_FINISHED", task_id


def test_trigger_of_a_far_future_job_runs_it_exactly_once(scheduler) -> None:
    scheduler.job("once", cron=FAR_FUTURE, shardingTotalCount=3, shardingItemParameters="0=x,1=y,2=z")
    assert scheduler.lifecycle.trigger("once") == 1
    wait_until(lambda: len(scheduler.records("once")) >= 3, 20, message="the triggered run")
    wait_until(lambda: not scheduler.running("once"), 10, message="the run to end")
    assert stays_true(lambda: len(scheduler.records("once")) == 3, 3.0), scheduler.records("once")
    [run] = group_runs(scheduler.records("once"), 3)
    assert {r.item: r.parameter for r in run} == {0: "x", 1: "y", 2: "z"}
    assert len(scheduler.events.launched_of("once")) == 3
    assert not scheduler.registry.ready.counts().get("once")
    assert scheduler.fires("once") == 0
    wait_until(lambda: not scheduler.zk_running(), 5, message="/state/running to be empty")


def test_fires_during_a_long_run_are_queued_with_misfire_and_merged_without(scheduler) -> None:
    """Each run sleeps 1.5 s and the cron fires every second: with misfire the fires add up in the
    ready counter and all run, one after another; without misfire at most one run waits."""
    for name, misfire in (("queued", True), ("merged", False)):
        scheduler.job(
            name, cron="* * * * * ?", misfire=misfire, jobParameter="sleep=1.5", shardingTotalCount=2
        )
    highest = {"queued": 0, "merged": 0}
    deadline = time.monotonic() + 7.0
    while time.monotonic() < deadline:
        counts = scheduler.registry.ready.counts()
        for name in highest:
            highest[name] = max(highest[name], counts.get(name, 0))
        time.sleep(0.05)
    for name in highest:  # no more fires from now on; what is queued still runs
        scheduler.lifecycle.update_job({"jobName": name, "cron": FAR_FUTURE})
    assert highest["queued"] >= 2, highest
    assert highest["merged"] <= 1, highest

    def drained() -> bool:
        # the engine takes a run off the ready counter and records its tasks under /state/running in
        # one transaction, and adds them to its own memory only after that returns: read in the gap,
        # the counter and the memory both look empty while the last run is on its way (a busy
        # machine widens the gap). ZooKeeper, read after the counter, has the tasks by then.
        counts = scheduler.registry.ready.counts()
        if counts.get("queued") or counts.get("merged"):
            return False
        return not any(job in highest for job, _ in scheduler.zk_running()) and not scheduler.running()

    wait_until(drained, 30, message="the queued runs to run")
    for name in highest:
        runs = group_runs(scheduler.records(name), 2)
        starts = [min(r.start for r in run) for run in runs]
        gaps = [b - a for a, b in itertools.pairwise(starts)]
        assert all(gap >= 1.5 for gap in gaps), f"{name}: two runs overlapped: {gaps}"
    queued, merged = (
        len(group_runs(scheduler.records("queued"), 2)),
        len(group_runs(scheduler.records("merged"), 2)),
    )
    assert queued == scheduler.fires("queued"), "with misfire every fire runs once"
    assert merged < scheduler.fires("merged"), "without misfire fires during a run are merged"
    assert queued > merged


def test_trigger_right_after_registration_is_not_lost(scheduler) -> None:
    names = [f"quick{i}" for i in range(30)]
    for name in names:
        scheduler.job(name, known=False, cron=FAR_FUTURE)
        scheduler.lifecycle.trigger(name)
    wait_until(lambda: not scheduler.registry.ready.counts(), 15, message="every ready counter to be taken")

    def launched() -> set[str]:
        with scheduler.events.lock:
            return {t.split("@-@")[0] for t in scheduler.events.launched}

    wait_until(lambda: launched() == set(names), 3, message="a launch of every job")
    wait_until(lambda: {r.job for r in scheduler.records()} == set(names), 15, message="every job to run")
    assert len(scheduler.records()) == len(names)
