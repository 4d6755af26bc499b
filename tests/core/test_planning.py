"""What is pending (``core.planning.pending_runs``): pure decisions over plain views of the catalog,
the running tasks and the queues, and the queue entry each pending run's transaction takes."""

from dataclasses import dataclass, field

from elasticjob_cloud.core.models import ExecutionType, JobConfig, JobType, TaskType
from elasticjob_cloud.core.planning import pending_runs
from elasticjob_cloud.core.policies import ConcurrencyPolicy, RunPolicy
from elasticjob_cloud.core.ports import FailoverEntry, FailoverTake, ReadyTake, TriggeredTake
from elasticjob_cloud.core.triggers import TriggeredRun


def job(name: str, shards: int = 2, daemon: bool = False) -> JobConfig:
    kind = ExecutionType.DAEMON if daemon else ExecutionType.TRANSIENT
    return JobConfig(name, "app", JobType.SIMPLE, kind, "0/5 * * * * ?", shards, 0.5, 64.0, "a.B")


@dataclass
class Jobs:
    jobs: dict[str, JobConfig]
    disabled: set[str] = field(default_factory=set)

    @property
    def daemons(self) -> set[str]:
        return {n for n, j in self.jobs.items() if j.is_daemon}

    def launchable(self, name: str) -> JobConfig | None:
        return None if name in self.disabled else self.jobs.get(name)


@dataclass
class Running:
    shards: set[tuple[str, int]] = field(default_factory=set)

    def at(self, name: str, item: int) -> object | None:
        return object() if (name, item) in self.shards else None

    def is_job_running(self, name: str) -> bool:
        return any(n == name for n, _ in self.shards)


def summary(pending):
    return [(r.job.job_name, r.items, r.task_type, r.take) for r in pending.runs]


def test_a_ready_run_takes_its_counter_as_read_and_a_job_without_config_is_an_orphan():
    jobs = Jobs({"a": job("a")})
    pending = pending_runs({"a": (2, 7), "gone": (1, 3)}, [], jobs, Running())
    assert summary(pending) == [("a", (0, 1), TaskType.READY, ReadyTake("a", 2, 7))]
    assert pending.orphans == ["gone"]


def test_a_running_or_disabled_job_waits_and_its_queue_entry_stays():
    jobs = Jobs({"a": job("a"), "b": job("b")}, disabled={"b"})
    pending = pending_runs({"a": (1, 0), "b": (1, 0)}, [], jobs, Running({("a", 1)}))
    assert pending.runs == [] and pending.orphans == []


def test_failover_shards_go_alone_after_their_back_off_and_hold_back_the_jobs_ready_run():
    jobs = Jobs({"a": job("a")})
    failover = [
        FailoverEntry("a", 1, "a@-@1@-@READY@-@S0@-@u"),
        FailoverEntry("a", 0, "a@-@0@-@READY@-@S0@-@v", attempt=2, not_before=50.0),
    ]
    pending = pending_runs({"a": (1, 0)}, failover, jobs, Running(), now=10.0)
    assert summary(pending) == [("a", (1,), TaskType.FAILOVER, FailoverTake("a", 1))]
    assert pending.runs[0].original_task_ids == {1: "a@-@1@-@READY@-@S0@-@u"}
    later = pending_runs({}, failover, jobs, Running(), now=50.0)
    assert [r.items for r in later.runs] == [(1,), (0,)]


def test_a_daemon_starts_whole_then_only_its_missing_shards_and_never_one_queued_for_failover():
    jobs = Jobs({"d": job("d", shards=3, daemon=True)})
    assert summary(pending_runs({}, [], jobs, Running())) == [("d", (0, 1, 2), TaskType.READY, None)]
    partly = pending_runs({}, [FailoverEntry("d", 2, "t")], jobs, Running({("d", 0)}))
    assert summary(partly) == [
        ("d", (2,), TaskType.FAILOVER, FailoverTake("d", 2)),
        ("d", (1,), TaskType.FAILOVER, None),
    ]


def test_a_triggered_run_goes_first_with_its_parameters_unless_a_counted_run_is_older():
    jobs = Jobs({"a": job("a")})
    run = TriggeredRun("a", "r1", 20.0, "p=1", None)
    first = pending_runs({"a": (1, 4)}, [], jobs, Running(), triggered=[run], queued_at=lambda n: 30.0)
    assert summary(first) == [("a", (0, 1), TaskType.READY, TriggeredTake("a", "r1"))]
    assert first.runs[0].job.job_parameter == "p=1" and first.runs[0].run_id == "r1"
    older = pending_runs({"a": (1, 4)}, [], jobs, Running(), triggered=[run], queued_at=lambda n: 10.0)
    assert summary(older) == [("a", (0, 1), TaskType.READY, ReadyTake("a", 1, 4))]


def allowing(name: str) -> JobConfig:
    return job(name).with_changes(policy=RunPolicy(concurrency_policy=ConcurrencyPolicy.ALLOW))


def test_under_allow_a_queued_run_starts_beside_the_running_one_and_under_forbid_it_waits():
    jobs = Jobs({"a": allowing("a"), "f": job("f")})
    both_running = Running({("a", 0), ("a", 1), ("f", 0), ("f", 1)})
    pending = pending_runs({"a": (1, 4), "f": (1, 2)}, [], jobs, both_running)
    assert summary(pending) == [("a", (0, 1), TaskType.READY, ReadyTake("a", 1, 4))]
    triggered = [TriggeredRun("a", "r1", 5.0), TriggeredRun("f", "r2", 5.0)]
    pending = pending_runs({}, [], jobs, both_running, triggered=triggered)
    assert summary(pending) == [("a", (0, 1), TaskType.READY, TriggeredTake("a", "r1"))]


def test_under_allow_a_lost_shard_runs_again_while_a_later_runs_task_of_that_shard_runs():
    jobs = Jobs({"a": allowing("a"), "f": job("f")})
    failover = [
        FailoverEntry("a", 1, "a@-@1@-@READY@-@S0@-@u"),
        FailoverEntry("f", 1, "f@-@1@-@READY@-@S0@-@v"),
    ]
    pending = pending_runs({}, failover, jobs, Running({("a", 1), ("f", 1)}))
    assert summary(pending) == [("a", (1,), TaskType.FAILOVER, FailoverTake("a", 1))]


def test_a_shards_entry_queued_beside_its_own_waits_for_the_next_round_and_is_taken_by_name():
    jobs = Jobs({"a": allowing("a")})
    own = FailoverEntry("a", 0, "a@-@0@-@READY@-@S0@-@u")
    beside = FailoverEntry("a", 0, "a@-@0@-@READY@-@S0@-@v", record="a@-@0@-@READY@-@S0@-@v")
    assert summary(pending_runs({}, [own, beside], jobs, Running())) == [
        ("a", (0,), TaskType.FAILOVER, FailoverTake("a", 0))
    ]
    assert summary(pending_runs({}, [beside], jobs, Running({("a", 0)}))) == [
        ("a", (0,), TaskType.FAILOVER, FailoverTake("a", 0, beside.record))
    ]
