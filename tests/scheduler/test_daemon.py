"""End to end, DAEMON jobs: one long-lived task per shard runs the cron itself; an update restarts it."""

from __future__ import annotations

import itertools

import pytest

from tests.scheduler.schedkit import tasks_by_shard
from tests.support import wait_until

pytestmark = pytest.mark.slow


def executions_per_shard(
    scheduler, job: str, shards: int, at_least: int, task_ids: set[str] | None = None
) -> bool:
    grouped = tasks_by_shard(r for r in scheduler.records(job) if task_ids is None or r.task_id in task_ids)
    return all(len(grouped.get((job, item), [])) >= at_least for item in range(shards))


def test_daemon_job_keeps_one_task_per_shard_running_the_cron(scheduler) -> None:
    scheduler.job("daemon", jobExecutionType="DAEMON", shardingTotalCount=2, shardingItemParameters="0=p,1=q")
    wait_until(lambda: executions_per_shard(scheduler, "daemon", 2, 3), 25, message="three fires per shard")

    running = scheduler.running("daemon")
    assert sorted(t.item for t in running) == [0, 1]
    assert {t.state for t in running} == {"TASK_RUNNING"}
    launched = scheduler.events.launched_of("daemon")
    assert sorted(launched) == sorted(t.task_id for t in running), "a daemon shard was launched again"
    assert scheduler.zk_running("daemon") == {("daemon", t.item): t.task_id for t in running}
    for (_, item), executions in tasks_by_shard(scheduler.records("daemon")).items():
        assert len({r.task_id for r in executions}) == 1, f"shard {item} ran under several tasks"
        assert len({r.pid for r in executions}) == 1, f"shard {item} ran in several processes"
        assert [r.executions for r in executions] == list(range(1, len(executions) + 1))
        assert {r.parameter for r in executions} == {"pq"[item]}
        starts = [r.start for r in executions]
        assert all(1.5 < b - a < 2.5 for a, b in itertools.pairwise(starts)), starts
    assert not scheduler.registry.ready.counts().get("daemon")  # a daemon is no ready-queue work
    for task_id in launched:
        assert "TASK_FINISHED" not in scheduler.events.states(task_id)


def test_updating_a_daemon_job_restarts_its_tasks_with_new_ids(scheduler) -> None:
    scheduler.job("daemon", jobExecutionType="DAEMON", shardingTotalCount=2, cron="0/2 * * * * ?")
    wait_until(lambda: executions_per_shard(scheduler, "daemon", 2, 1), 25, message="both shards running")
    before = {t.task_id for t in scheduler.running("daemon")}
    assert len(before) == 2
    scheduler.settle()

    scheduler.lifecycle.update_job({"jobName": "daemon", "cron": "* * * * * ?", "jobParameter": "v2"})

    def restarted() -> set[str] | None:
        now = {t.task_id for t in scheduler.running("daemon")}
        return now if len(now) == 2 and not now & before else None

    after = wait_until(restarted, 20, message="both shards restarted as new tasks")
    for task_id in before:
        wait_until(
            lambda t=task_id: "TASK_KILLED" in scheduler.events.states(t), 10, message=f"{task_id} killed"
        )
    wait_until(
        lambda: executions_per_shard(scheduler, "daemon", 2, 2, after),
        20,
        message="the new tasks to run the new cron",
    )
    new_records = [r for r in scheduler.records("daemon") if r.task_id in after]
    assert {r.job_parameter for r in new_records} == {"v2"}
    assert not {r.pid for r in new_records} & {
        r.pid for r in scheduler.records("daemon") if r.task_id in before
    }
    assert set(scheduler.zk_running("daemon").values()) == after
