"""The campaign reads the scheduler's runs back from ZooKeeper's transaction log: here the real
ledger writes overlapping runs, a failover and a failed transaction to a real server, and the
history must put every task in its run and link the FAILOVER task to the task it runs again."""

from __future__ import annotations

from elasticjob_cloud.core.models import AppConfig, ExecutionType, JobConfig, JobType
from elasticjob_cloud.core.ports import FailoverEntry, FailoverTake, LaunchRecord, ReadyTake, RunningEntry
from elasticjob_cloud.registry import Registry
from elasticjob_cloud.registry.zookeeper import KazooTree
from tests.faults import zkhistory


def task(item: int, last: str, kind: str = "READY") -> RunningEntry:
    return RunningEntry("job", item, f"job@-@{item}@-@{kind}@-@S0@-@{last}")


def test_runs_and_failovers_are_read_back_from_the_transaction_log(zk_server, zk_connection):
    reg = Registry.over(KazooTree(zk_connection), queue_size=5)
    reg.config.add_app(AppConfig("app", "http://h/app.tar.gz", "bin/start.sh"))
    reg.config.add_job(
        JobConfig("job", "app", JobType.SIMPLE, ExecutionType.TRANSIENT, "0/5 * * * * ?", 2, 0.5, 64.0, "a.B")
    )
    for _ in range(3):
        reg.ready.trigger("job", lambda j: True)

    def take() -> ReadyTake:
        count, version = reg.ready.snapshot()["job"]
        return ReadyTake("job", count, version)

    first = (task(0, "a"), task(1, "b"))
    (one,) = reg.ledger.record_launches([LaunchRecord(take(), first, create_job_node=True)])
    # the second run overlaps the first: its tasks are recorded under their task IDs
    second = tuple(
        RunningEntry("job", t.sharding_item, t.task_id, t.task_id) for t in (task(0, "c"), task(1, "d"))
    )
    (two,) = reg.ledger.record_launches([LaunchRecord(take(), second)])
    stale = ReadyTake("job", 3, 0)  # the counter moved since: this transaction fails whole
    (refused,) = reg.ledger.record_launches([LaunchRecord(stale, (task(0, "x"), task(1, "y")))])
    assert (one.error, two.error) == (None, None) and refused.error is not None
    writes = reg.ledger.writes()
    writes.finish_task("job", 1)  # the first run's shard 1 is lost ...
    writes.flush()
    assert reg.failover.add(FailoverEntry("job", 1, first[1].task_id))  # ... and failed over
    again = task(1, "e", "FAILOVER")
    (three,) = reg.ledger.record_launches([LaunchRecord(FailoverTake("job", 1), (again,))])
    assert three.error is None

    history = zkhistory.job_history(zkhistory.read_log(zk_server.data_dir), "job", zk_connection.root)
    assert [run.tasks for run in history.runs] == [
        {0: first[0].task_id, 1: first[1].task_id},
        {0: second[0].task_id, 1: second[1].task_id},
    ]
    assert history.failover_of == {again.task_id: first[1].task_id}
    assert history.run_of[again.task_id] == 0 and history.run_of[second[1].task_id] == 1
    assert first[1].task_id in history.finished_at and history.unlinked == []
    ((shard, original, created, taken),) = history.failover_entries
    assert (shard, original) == (1, first[1].task_id) and taken is not None and taken >= created
