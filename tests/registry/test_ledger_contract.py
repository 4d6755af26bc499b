"""One contract for the scheduler's ledger (``registry.ledger``), run on the in-memory twin and on a
real ZooKeeper: what each verb writes, that a launch transaction applies whole or not at all, that
deletes are idempotent, and that a fenced ledger writes nothing once its election node is gone."""

import json

import pytest

from elasticjob_cloud.core import paths
from elasticjob_cloud.core.models import AppConfig, ExecutionType, JobConfig, JobType
from elasticjob_cloud.core.ports import (
    FailoverEntry,
    FailoverTake,
    LaunchRecord,
    ReadyTake,
    RunningEntry,
    TriggeredTake,
)
from elasticjob_cloud.core.triggers import TriggeredRun
from elasticjob_cloud.exceptions import Conflict, Deposed, NotFound, RegistryUnavailable
from elasticjob_cloud.registry.tree import Create, Delete
from tests.support import clear_ready, record_running

APP = AppConfig("app", "http://h/app.tar.gz", "bin/start.sh")


def task(job: str, item: int, last: str = "u") -> RunningEntry:
    return RunningEntry(job, item, f"{job}@-@{item}@-@READY@-@S0@-@{last}")


@pytest.fixture
def reg(registry):
    registry.config.add_app(APP)
    base = JobConfig(
        "job", "app", JobType.SIMPLE, ExecutionType.TRANSIENT, "0/5 * * * * ?", 2, 0.5, 64.0, "a.B"
    )
    registry.config.add_job(base)
    return registry


def ready(reg, job="job") -> ReadyTake:
    (count, version) = reg.ready.snapshot()[job]
    return ReadyTake(job, count, version)


def recorded(reg) -> dict[tuple[str, int], str]:
    return {(e.job_name, e.sharding_item): e.task_id for e in reg.running.entries()}


def test_a_launch_takes_its_ready_run_creates_the_job_node_and_records_its_tasks(reg):
    reg.ready.trigger("job", lambda j: True)
    reg.ready.trigger("job", lambda j: True)
    record = LaunchRecord(ready(reg), (task("job", 0), task("job", 1)), create_job_node=True)
    (result,) = reg.ledger.record_launches([record])
    assert result.error is None and result.job_node is True
    assert reg.ready.counts() == {"job": 1}
    assert recorded(reg) == {("job", 0): task("job", 0).task_id, ("job", 1): task("job", 1).task_id}
    assert reg.ledger.running_jobs() == ["job"]
    (last,) = reg.ledger.record_launches([LaunchRecord(ready(reg), (task("job", 0, "v"),))])
    assert last.error is not None  # the shard's record is there: all or nothing
    assert reg.ready.counts() == {"job": 1}


def test_a_launch_whose_ready_counter_moved_writes_nothing(reg):
    reg.ready.trigger("job", lambda j: True)
    stale = ready(reg)
    reg.ready.trigger("job", lambda j: True)
    (result,) = reg.ledger.record_launches([LaunchRecord(stale, (task("job", 0),), create_job_node=True)])
    assert isinstance(result.error, Conflict) and result.job_node is None  # not looked up
    assert recorded(reg) == {} and reg.ledger.running_jobs() == []
    assert reg.ready.counts() == {"job": 2}


def test_a_launch_whose_ready_node_vanished_reports_the_job_node_as_it_is(reg):
    assert reg.ledger.prepare_jobs(["job"]) == {"job": True}
    reg.ready.trigger("job", lambda j: True)
    taken = ready(reg)
    clear_ready(reg, "job")
    (result,) = reg.ledger.record_launches([LaunchRecord(taken, (task("job", 0),))])
    assert isinstance(result.error, NotFound)
    assert result.job_node is True  # the queue entry went, not the job node
    assert recorded(reg) == {}


def test_failover_and_triggered_takes_go_with_their_launch(reg):
    reg.failover.add(FailoverEntry("job", 1, "job@-@1@-@READY@-@S9@-@old"))
    run = TriggeredRun("job", "r1", 5.0, "p", None)
    reg.triggered.add(run, None)
    results = reg.ledger.record_launches(
        [
            LaunchRecord(FailoverTake("job", 1), (task("job", 1),), create_job_node=True),
            LaunchRecord(TriggeredTake("job", "r1"), (task("job", 0),)),
        ]
    )
    assert [r.error for r in results] == [None, None]
    assert reg.failover.entries() == [] and reg.triggered.entries() == []
    assert set(recorded(reg)) == {("job", 0), ("job", 1)}


def test_independent_launches_apply_one_by_one(reg):
    reg.ready.trigger("job", lambda j: True)
    good = LaunchRecord(ready(reg), (task("job", 0),), create_job_node=True)
    bad = LaunchRecord(FailoverTake("job", 1), (task("job", 1),))  # no such failover entry
    results = reg.ledger.record_launches([good, bad])
    assert results[0].error is None and isinstance(results[1].error, NotFound)
    assert set(recorded(reg)) == {("job", 0)}


def test_preparing_jobs_is_idempotent_and_counted(reg):
    before = reg.ledger.transactions
    assert reg.ledger.prepare_jobs(["job", "other"]) == {"job": True, "other": True}
    assert reg.ledger.prepare_jobs(["job"]) == {"job": True}
    assert reg.ledger.running_jobs() == ["job", "other"]
    assert reg.ledger.transactions - before == 3


def test_taking_a_ready_run_is_guarded_by_the_counter_as_read(reg):
    reg.ready.trigger("job", lambda j: True)
    reg.ready.trigger("job", lambda j: True)
    first = ready(reg)
    assert reg.ledger.take_ready_run(first) is True
    assert reg.ledger.take_ready_run(first) is False  # moved since that read
    assert reg.ledger.take_ready_run(ready(reg)) is True
    assert reg.ready.counts() == {}
    assert reg.ledger.take_ready_run(first) is False  # gone


def test_state_writes_finish_forget_and_drop_and_deletes_are_idempotent(reg):
    reg.ready.trigger("job", lambda j: True)
    reg.ready.trigger("job", lambda j: True)
    reg.ready.trigger("job", lambda j: True)
    reg.triggered.add(TriggeredRun("job", "r1", 5.0, None, None), None)
    reg.ledger.record_launches([LaunchRecord(None, (task("job", 0), task("job", 1)), create_job_node=True)])
    writes = reg.ledger.writes()
    writes.finish_task("job", 0)
    writes.finish_task("job", 0)  # twice: the second finds it gone, which is the wanted state
    writes.drop_ready(ready(reg), 2)
    writes.drop_triggered(TriggeredTake("job", "r1"))
    assert len(writes) == 4
    writes.flush()
    assert len(writes) == 0
    assert set(recorded(reg)) == {("job", 1)}
    assert reg.ready.counts() == {"job": 1} and reg.triggered.entries() == []
    writes.finish_task("job", 1)
    writes.forget_job("job")
    writes.forget_job("job")
    writes.flush()
    assert recorded(reg) == {} and reg.ledger.running_jobs() == [] and len(writes) == 0


def test_an_adopted_task_is_recorded_over_a_stale_record_and_without_a_known_job_node(reg):
    writes = reg.ledger.writes()
    writes.record_task(task("job", 0, "old"), create_job_node=True)
    writes.flush()
    writes.record_task(task("job", 0, "new"), create_job_node=False)  # a stale record is there
    writes.record_task(task("gone", 0), create_job_node=False)  # its job node is not there
    writes.flush()
    assert recorded(reg) == {("job", 0): task("job", 0, "new").task_id, ("gone", 0): task("gone", 0).task_id}
    assert len(writes) == 0


def test_a_deposed_leaderships_ledger_writes_nothing_and_keeps_its_writes(reg):
    reg.tree.ensure("/ha/election")
    reg.tree.commit([Create("/ha/election/n1")])
    fenced = reg.fenced("/ha/election/n1")
    reg.ready.trigger("job", lambda j: True)
    reg.ledger.record_launches([LaunchRecord(None, (task("job", 1),), create_job_node=True)])
    reg.tree.commit([Delete("/ha/election/n1")])  # its session expired: another instance leads
    (result,) = fenced.ledger.record_launches([LaunchRecord(ready(reg), (task("job", 0),))])
    assert isinstance(result.error, Deposed) and result.job_node is None
    writes = fenced.ledger.writes()
    writes.finish_task("job", 1)
    writes.flush()
    assert len(writes) == 1  # kept: the status update behind it is not acknowledged
    assert fenced.ledger.prepare_jobs(["job"]) == {"job": None}
    assert reg.ready.counts() == {"job": 1} and set(recorded(reg)) == {("job", 1)}


def test_a_tasks_outcome_is_recorded_before_its_running_record_goes_and_overwrites_an_older_one(reg):
    record_running(reg, task("job", 0))
    writes = reg.ledger.writes()
    writes.record_outcome(task("job", 0).task_id, 0, False, 10.0, create_folder=True)
    writes.finish_task("job", 0)
    writes.flush()
    writes.record_outcome(task("job", 0, "v").task_id, 0, True, 20.0, create_folder=True)  # one there
    writes.flush()
    assert len(writes) == 0 and recorded(reg) == {}
    assert reg.dependencies.jobs_with_outcomes() == ["job"]
    stored = json.loads(reg.tree.get(paths.run_outcome("job", 0))[0])
    assert stored == {"taskId": task("job", 0, "v").task_id, "ok": True, "at": 20.0}


def test_a_tasks_outcome_and_the_delete_of_its_record_are_one_transaction(reg, monkeypatch):
    """Were the record deleted while the outcome waits for its redo (its folder already there), a
    leader dying in between would lose the outcome and its downstream would never run."""
    writes = reg.ledger.writes()
    writes.record_outcome(task("job", 1).task_id, 1, True, 5.0, create_folder=True)
    writes.flush()  # the outcome folder now exists
    record_running(reg, task("job", 0))
    writes.record_outcome(task("job", 0).task_id, 0, True, 10.0, create_folder=True)  # a stale belief
    writes.finish_task("job", 0)

    def zookeeper_gone(*args, **kwargs):
        raise RegistryUnavailable("connection lost")

    monkeypatch.setattr(reg.ledger, "overwrite", zookeeper_gone)
    writes.flush()
    assert recorded(reg) == {("job", 0): task("job", 0).task_id}  # not gone without its outcome
    assert reg.tree.get(paths.run_outcome("job", 0)) is None
    monkeypatch.undo()
    writes.flush()
    assert len(writes) == 0 and recorded(reg) == {}
    stored = json.loads(reg.tree.get(paths.run_outcome("job", 0))[0])
    assert stored == {"taskId": task("job", 0).task_id, "ok": True, "at": 10.0}


def test_a_task_of_an_overlapping_run_is_recorded_under_its_task_id_read_back_and_finished(reg):
    """``concurrencyPolicy`` ALLOW: the shard's own record is taken, so the second run's task of the
    shard is recorded under its task ID (five parts: the original reads it as the same shard)."""
    first, second = task("job", 0, "first"), task("job", 0, "second")
    overlapping = RunningEntry("job", 0, second.task_id, second.task_id)
    reg.ledger.record_launches([LaunchRecord(None, (first,), create_job_node=True)])
    (result,) = reg.ledger.record_launches([LaunchRecord(None, (overlapping,))])
    assert result.error is None
    assert sorted(reg.tree.children(paths.running_job("job"))) == sorted(["job@-@0", second.task_id])
    assert sorted(reg.running.entries(), key=lambda e: e.task_id) == [first, overlapping]
    writes = reg.ledger.writes()
    writes.finish_task("job", 0, second.task_id)
    writes.flush()
    assert reg.running.entries() == [first]
    writes.finish_task("job", 0)
    writes.flush()
    assert reg.running.entries() == []


def test_a_record_whose_name_is_another_jobs_task_id_is_not_read_as_this_jobs(reg):
    reg.ledger.prepare_jobs(["job"])
    stray = task("other", 0).task_id
    reg.tree.commit(
        [
            Create(paths.running_record("job", stray), stray.encode()),
            Create(paths.running_record("job", "job@-@x")),
        ]
    )
    assert reg.running.entries() == []


def test_a_second_loss_of_a_queued_shard_is_queued_beside_it_taken_and_withdrawn_alone(reg):
    """``concurrencyPolicy`` ALLOW: the shard's own entry holds the first lost task, the second is
    queued under its task ID; a launch takes one, a withdrawal removes the other, a repeat is refused."""
    first, second = task("job", 0, "first").task_id, task("job", 0, "second").task_id
    assert reg.failover.add(FailoverEntry("job", 0, first), beside=True)
    assert not reg.failover.add(FailoverEntry("job", 0, second))  # without beside: refused as before
    assert reg.failover.add(FailoverEntry("job", 0, second), beside=True)
    assert not reg.failover.add(FailoverEntry("job", 0, second), beside=True)  # queued already
    assert not reg.failover.add(FailoverEntry("job", 0, first), beside=True)
    assert sorted(reg.tree.children(paths.failover_job("job"))) == sorted(["job@-@0", second])
    entries = reg.failover.entries()
    assert [(e.original_task_id, e.record) for e in entries] == [(first, None), (second, second)]
    launch = LaunchRecord(FailoverTake("job", 0, second), (task("job", 0, "again"),), create_job_node=True)
    (result,) = reg.ledger.record_launches([launch])
    assert result.error is None
    assert [e.original_task_id for e in reg.failover.entries()] == [first]
    assert reg.failover.add(FailoverEntry("job", 0, second), beside=True)
    assert reg.failover.withdraw("job", 0, second)  # it ran after all: only its own entry goes
    assert [e.original_task_id for e in reg.failover.entries()] == [first]
