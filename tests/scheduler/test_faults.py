"""End to end, an agent lost in the middle of a run: failover=true reruns the shard elsewhere,
failover=false does not."""

from __future__ import annotations

import threading
import time

import pytest

from tests.scheduler.schedkit import FAR_FUTURE, stays_true
from tests.support import wait_until

pytestmark = pytest.mark.slow


def test_shard_of_a_removed_agent_fails_over_to_another_agent_only_with_failover(make_scheduler) -> None:
    scheduler = make_scheduler(agents=1)  # every shard lands on the agent that is going to die
    first = scheduler.cluster.agents[0].agent_id
    scheduler.job("fo", cron=FAR_FUTURE, failover=True, jobParameter="sleep=3")
    scheduler.job("nofo", cron=FAR_FUTURE, failover=False, jobParameter="sleep=3")
    scheduler.lifecycle.trigger("fo")
    scheduler.lifecycle.trigger("nofo")
    wait_until(
        lambda: {r.job for r in scheduler.records()} == {"fo", "nofo"}, 20, message="both shards to start"
    )
    [(fo_task, fo_pid)] = [(r.task_id, r.pid) for r in scheduler.records("fo")]
    [nofo_task] = [r.task_id for r in scheduler.records("nofo")]
    assert fo_task.split("@-@")[3] == first and nofo_task.split("@-@")[3] == first
    second = scheduler.cluster.add_agent().agent_id
    scheduler.settle()

    scheduler.cluster.remove_agent(first)

    def failed_over():
        found = [r for r in scheduler.records("fo") if r.task_type == "FAILOVER"]
        return found[0] if found else None

    record = wait_until(failed_over, 20, message="the failover shard of 'fo' to run")
    assert record.item == 0 and record.task_id.split("@-@")[3] == second
    assert record.task_id != fo_task and record.pid != fo_pid
    wait_until(
        lambda: "TASK_FINISHED" in scheduler.events.states(record.task_id),
        15,
        message="the failover to finish",
    )
    for lost in (fo_task, nofo_task):
        assert set(scheduler.events.states(lost)) & {"TASK_LOST", "TASK_GONE", "TASK_GONE_BY_OPERATOR"}, (
            scheduler.events.states(lost)
        )
    wait_until(lambda: not scheduler.running(), 10, message="no running task left")
    wait_until(lambda: not scheduler.zk_running(), 5, message="/state/running to be empty")
    assert not scheduler.registry.failover.entries()
    assert stays_true(lambda: len(scheduler.records("nofo")) == 1, 2.0), "failover=false ran again"
    assert scheduler.events.launched_of("nofo") == [nofo_task]
    assert len(scheduler.events.launched_of("fo")) == 2


def test_shard_of_a_partitioned_agent_fails_over_when_the_grace_period_ends(make_scheduler) -> None:
    """TASK_UNREACHABLE starts ``unreachable_grace_seconds`` (3 s here); at its end the shard is
    treated as lost and failed over; healing the agent afterwards launches nothing more."""
    scheduler = make_scheduler(agents=1)
    first = scheduler.cluster.agents[0].agent_id
    scheduler.job("fo", cron=FAR_FUTURE, failover=True, jobParameter="sleep=4")
    scheduler.lifecycle.trigger("fo")
    wait_until(lambda: scheduler.records("fo"), 20, message="the shard to start")
    [original] = [r.task_id for r in scheduler.records("fo")]
    second = scheduler.cluster.add_agent().agent_id
    scheduler.settle()

    partitioned_at = time.monotonic()
    scheduler.cluster.partition_agent(first)

    wait_until(
        lambda: "TASK_UNREACHABLE" in scheduler.events.states(original), 10, message="TASK_UNREACHABLE"
    )
    assert [t.task_id for t in scheduler.running("fo")] == [original]  # maybe still running: kept
    launches = wait_until(
        lambda: [t for t in scheduler.events.launched_of("fo") if t != original],
        15,
        message="a failover launch",
    )
    elapsed = time.monotonic() - partitioned_at
    assert elapsed >= 3.0, (
        f"failed over {elapsed:.2f}s after the partition, before the grace period ended;"
        f" updates of the original: {scheduler.events.states(original)}, launches: {launches},"
        f" launch failures: {scheduler.engine.stats.launch_failures}, records: {scheduler.records('fo')}"
    )
    [failover] = launches
    assert failover.split("@-@")[2:4] == ["FAILOVER", second]
    scheduler.cluster.heal_agent(first)
    wait_until(
        lambda: "TASK_FINISHED" in scheduler.events.states(failover), 20, message="the failover to finish"
    )
    wait_until(lambda: not scheduler.running(), 10, message="no running task left")
    wait_until(lambda: not scheduler.zk_running(), 5, message="/state/running to be empty")
    assert not scheduler.registry.failover.entries()
    assert stays_true(lambda: len(scheduler.events.launched_of("fo")) == 2, 2.0)


def test_a_shard_that_ended_on_an_agent_removed_right_after_runs_once(make_scheduler) -> None:
    """An agent forwards a task's next update only once the one before is acknowledged. The task ends
    while the engine's thread is busy (blocked here right after the launch); its TASK_RUNNING must
    not wait for that thread to be acknowledged, or its TASK_FINISHED stays queued at the agent and
    goes with it when the agent is removed: the master then reports the task TASK_LOST (as a Mesos
    master does for every task of a removed agent it has not seen acknowledged as ended) and the
    shard ran a second time for one fire."""
    scheduler = make_scheduler(agents=1)
    first = scheduler.cluster.agents[0].agent_id
    scheduler.job("once", cron=FAR_FUTURE, failover=True, jobParameter="sleep=0.3")
    scheduler.cluster.add_agent()
    scheduler.settle()
    engine = scheduler.engine
    launched, release = threading.Event(), threading.Event()
    listener = engine.listener

    def blocking(kind: str, payload: object, now: float) -> None:
        listener(kind, payload, now)
        if kind == "launch" and not launched.is_set():
            launched.set()
            release.wait(30)  # the engine's thread: nothing it does goes on meanwhile

    engine.listener = blocking
    try:
        scheduler.lifecycle.trigger("once")
        assert launched.wait(20)
        [task_id] = scheduler.events.launched_of("once")

        def ended_at_agent() -> bool:
            pending = scheduler.cluster.pending_status_updates()
            return any(s["task_id"]["value"] == task_id and s["state"] == "TASK_FINISHED" for s in pending)

        wait_until(ended_at_agent, 20, message="the task to end (its TASK_FINISHED at the agent)")
        assert task_id.split("@-@")[3] == first
        scheduler.cluster.remove_agent(first)
    finally:
        release.set()
    wait_until(lambda: "TASK_FINISHED" in scheduler.events.states(task_id), 10, message="TASK_FINISHED")
    wait_until(lambda: not scheduler.running() and not scheduler.zk_running(), 10, message="nothing running")
    assert stays_true(lambda: len(scheduler.records("once")) == 1, 3.0), scheduler.records("once")
    assert not scheduler.registry.failover.entries()
    assert scheduler.events.launched_of("once") == [task_id]
