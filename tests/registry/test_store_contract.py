"""One contract for the stores, run on the in-memory twin and on a real ZooKeeper."""

import pytest

from elasticjob_cloud.core import paths
from elasticjob_cloud.core.models import AppConfig, ExecutionType, JobConfig, JobType
from elasticjob_cloud.core.ports import FailoverEntry, FailoverTake, LaunchRecord, ReadyTake, RunningEntry
from elasticjob_cloud.exceptions import AlreadyExists, NotFound, QueueFull
from tests.support import record_running

APP = AppConfig("app", "http://h/app.tar.gz", "bin/start.sh")


def job(name="job", app="app", **changes):
    base = JobConfig(name, app, JobType.SIMPLE, ExecutionType.TRANSIENT, "0/5 * * * * ?", 3, 0.5, 64.0, "a.B")
    return base.with_changes(**changes)


def test_app_round_trip_and_duplicates(registry):
    registry.config.add_app(APP)
    assert registry.config.get_app("app") == APP
    with pytest.raises(AlreadyExists, match="app 'app' already exists"):
        registry.config.add_app(APP)
    changed = AppConfig("app", "file:///srv/app.tar.gz", "run.sh", 2.0, 256.0, False, 3)
    registry.config.replace_app(changed)
    assert registry.config.list_apps() == [changed]


def test_replace_unknown_app_is_not_found_and_writes_nothing(registry):
    with pytest.raises(NotFound):
        registry.config.replace_app(APP)
    assert registry.config.list_apps() == []


def test_job_needs_its_app_atomically(registry):
    with pytest.raises(NotFound, match="app 'app'"):
        registry.config.add_job(job())
    assert registry.config.get_job("job") is None
    registry.config.add_app(APP)
    registry.config.add_job(job())
    assert registry.config.get_job("job") == job()
    with pytest.raises(AlreadyExists):
        registry.config.add_job(job())


def test_remove_job_takes_its_state_along(registry):
    registry.config.add_app(APP)
    registry.config.add_job(job())
    registry.disable.disable_job("job")
    registry.ready.trigger("job", lambda j: True)
    registry.failover.add(FailoverEntry("job", 1, "job@-@1@-@READY@-@S0@-@u"))
    assert registry.config.remove_job("job") is True
    assert registry.config.get_job("job") is None
    assert not registry.disable.is_job_disabled("job")
    assert registry.ready.counts() == {}
    assert registry.failover.entries() == []
    assert registry.config.remove_job("job") is False  # idempotent


def test_remove_app_cascades_to_its_jobs_only(registry):
    registry.config.add_app(APP)
    registry.config.add_app(AppConfig("other", "http://h/o.tar.gz", "bin/start.sh"))
    registry.config.add_job(job("a"))
    registry.config.add_job(job("b"))
    registry.config.add_job(job("c", app="other"))
    registry.disable.disable_app("app")
    assert sorted(registry.config.remove_app("app")) == ["a", "b"]
    assert [j.job_name for j in registry.config.list_jobs()] == ["c"]
    assert [a.app_name for a in registry.config.list_apps()] == ["other"]
    assert not registry.disable.is_app_disabled("app")


def test_add_app_and_job_is_all_or_nothing(registry):
    registry.config.add_app(APP)
    with pytest.raises(AlreadyExists):
        registry.config.add_app_and_job(APP, job("fresh"))
    assert registry.config.get_job("fresh") is None


def test_disable_and_enable_are_idempotent(registry):
    registry.config.add_app(APP)
    registry.config.add_job(job())
    registry.disable.disable_app("app")
    registry.disable.disable_app("app")
    registry.disable.disable_job("job")
    assert registry.disable.disabled_apps() == {"app"}
    assert registry.disable.disabled_jobs() == {"job"}
    registry.disable.enable_app("app")
    registry.disable.enable_app("app")
    registry.disable.enable_job("job")
    assert not registry.disable.is_app_disabled("app")
    assert registry.disable.disabled_jobs() == set()


def registered(registry, name="job"):
    if registry.config.get_app("app") is None:
        registry.config.add_app(APP)
    registry.config.add_job(job(name))


@pytest.mark.parametrize(("misfire", "expected"), [(True, [1, 2, 3]), (False, [1, 1, 1])])
def test_ready_counter_follows_the_misfire_rule(registry, misfire, expected):
    registered(registry)
    assert [registry.ready.trigger("job", lambda j: misfire) for _ in range(3)] == expected
    assert registry.ready.counts() == {"job": expected[-1]}


def test_a_ready_run_is_taken_by_the_counter_as_read_then_the_mark_goes(registry):
    registered(registry)
    for _ in range(2):
        registry.ready.trigger("job", lambda j: True)
    assert registry.ledger.take_ready_run(ReadyTake("job", *registry.ready.snapshot()["job"]))
    assert registry.ready.counts() == {"job": 1}
    assert registry.ledger.take_ready_run(ReadyTake("job", *registry.ready.snapshot()["job"]))
    assert registry.ready.counts() == {} and not registry.tree.exists(paths.ready("job"))


def test_queues_refuse_past_their_size_instead_of_dropping(registry):
    for i in range(6):
        registered(registry, f"job{i}")
    for i in range(5):  # the fixture's queue size
        registry.ready.trigger(f"job{i}", lambda j: False)
    with pytest.raises(QueueFull, match="job_state_queue_size=5"):
        registry.ready.trigger("job5", lambda j: False)
    assert "job5" not in registry.ready.counts()
    assert registry.ready.trigger("job0", lambda j: True) == 2  # existing entries still count up


def test_failover_entries_are_unique_per_shard(registry):
    registered(registry)
    first = FailoverEntry("job", 2, "job@-@2@-@READY@-@S0@-@u1")
    assert registry.failover.add(first) is True
    assert registry.failover.add(FailoverEntry("job", 2, "job@-@2@-@READY@-@S1@-@u2")) is False
    registry.failover.add(FailoverEntry("job", 0, "job@-@0@-@READY@-@S0@-@u3"))
    assert sorted(registry.failover.entries(), key=lambda e: e.sharding_item)[1] == first
    assert registry.failover.withdraw("job", 2, first.original_task_id) is True
    assert registry.failover.withdraw("job", 0, "job@-@0@-@READY@-@S0@-@u3") is True
    assert registry.failover.entries() == []
    assert not registry.tree.exists(paths.failover_job("job"))


def test_a_failover_entry_is_withdrawn_only_for_the_task_it_fails_over(registry):
    registered(registry)
    registry.failover.add(FailoverEntry("job", 1, "job@-@1@-@READY@-@S0@-@u1"))
    assert registry.failover.withdraw("job", 1, "job@-@1@-@READY@-@S0@-@other") is False
    assert registry.failover.withdraw("job", 0, "job@-@1@-@READY@-@S0@-@u1") is False
    assert [e.original_task_id for e in registry.failover.entries()] == ["job@-@1@-@READY@-@S0@-@u1"]
    assert registry.failover.withdraw("job", 1, "job@-@1@-@READY@-@S0@-@u1") is True
    assert registry.failover.entries() == [] and not registry.tree.exists(paths.failover_job("job"))
    assert registry.failover.withdraw("job", 1, "job@-@1@-@READY@-@S0@-@u1") is False


def test_a_failover_entry_needs_its_job(registry):
    assert registry.failover.add(FailoverEntry("gone", 0, "gone@-@0@-@READY@-@S0@-@u")) is False
    assert registry.failover.entries() == []


def test_running_entries(registry):
    entry = RunningEntry("job", 1, "job@-@1@-@READY@-@S0@-@u")
    record_running(registry, entry)
    record_running(registry, RunningEntry("job", 1, "job@-@1@-@FAILOVER@-@S1@-@v"))
    assert [e.task_id for e in registry.running.entries()] == ["job@-@1@-@FAILOVER@-@S1@-@v"]
    writes = registry.ledger.writes()
    writes.finish_task("job", 1)
    writes.flush()
    assert registry.running.entries() == []


def test_running_entries_of_many_jobs_are_listed_together_and_missing_nodes_are_empty(registry):
    for n in range(30):
        record_running(
            registry, RunningEntry(f"job{n:02d}", n % 3, f"job{n:02d}@-@{n % 3}@-@READY@-@S0@-@u{n}")
        )
    registry.tree.ensure(paths.running_job("empty"))
    assert sorted((e.job_name, e.sharding_item, e.task_id) for e in registry.running.entries()) == [
        (f"job{n:02d}", n % 3, f"job{n:02d}@-@{n % 3}@-@READY@-@S0@-@u{n}") for n in range(30)
    ]
    tree = registry.tree
    assert tree.children_many([paths.running_job("job01"), "/no/such/node", paths.running_job("empty")]) == [
        ["job01@-@1"],
        [],
        [],
    ]


def test_framework_id_is_written_once(registry):
    assert registry.framework_id.get() is None
    registry.framework_id.save("fw-1")
    registry.framework_id.save("fw-2")
    assert registry.framework_id.get() == "fw-1"


def test_a_failover_streak_is_kept_with_its_entry_and_goes_with_the_job(registry):
    registry.config.add_app(APP)
    registry.config.add_job(job())
    lost = "job@-@1@-@FAILOVER@-@S0@-@u1"
    assert registry.failover.add(FailoverEntry("job", 1, lost, attempt=3, not_before=1234.5)) is True
    assert registry.failover.entries() == [FailoverEntry("job", 1, lost, 3, 1234.5)]
    assert registry.failover.streak("job", 1) == 3 and registry.failover.streak("job", 0) == 0
    assert registry.failover.streaks() == {("job", 1)}
    assert registry.tree.get(paths.failover_task("job", 1))[0] == lost.encode()  # the original's content
    launched = RunningEntry("job", 1, "job@-@1@-@FAILOVER@-@S0@-@u9")
    [result] = registry.ledger.record_launches([LaunchRecord(FailoverTake("job", 1), (launched,), True)])
    assert (
        result.error is None and registry.failover.entries() == []
    )  # the streak stays, for its next failover
    assert registry.failover.streak("job", 1) == 3
    registry.failover.add(FailoverEntry("job", 1, "job@-@1@-@READY@-@S0@-@u2"))  # a new streak
    assert registry.failover.streak("job", 1) == 0
    registry.failover.add(FailoverEntry("job", 0, lost, attempt=2, not_before=1.0))
    registry.failover.end_streak("job", 0)
    assert registry.failover.streaks() == set()
    registry.failover.add(FailoverEntry("job", 2, lost, attempt=2, not_before=1.0))
    assert registry.config.remove_job("job") is True
    assert registry.failover.entries() == [] and registry.failover.streaks() == set()
    assert not registry.tree.exists(paths.failover_backoff_job("job"))
