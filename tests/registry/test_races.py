"""Changes planned from reads, with another writer acting between the reads and the commit.

Run on the in-memory twin and on a real ZooKeeper. ``racer`` is the other writer (the engine, the
producer, a second API request) over the same tree; ``racing`` is the store under test, whose next
commit first lets the racer act.
"""

from __future__ import annotations

import pytest

from elasticjob_cloud.core import paths
from elasticjob_cloud.core.models import AppConfig, ExecutionType, JobConfig, JobType
from elasticjob_cloud.core.ports import FailoverEntry, ReadyTake
from elasticjob_cloud.exceptions import InvalidConfig, NotFound, RegistryUnavailable
from elasticjob_cloud.registry import Registry, atomic
from elasticjob_cloud.registry.fires import FireWrite
from tests.registry.racing import RacingTree
from tests.support import clear_ready, queue_runs

APP = AppConfig("app", "http://h/app.tar.gz", "bin/start.sh")


def job(name="job", app="app", **changes):
    base = JobConfig(name, app, JobType.SIMPLE, ExecutionType.TRANSIENT, "0/1 * * * * ?", 3, 0.5, 64.0, "a.B")
    return base.with_changes(**changes)


@pytest.fixture
def racer(registry):
    registry.config.add_app(APP)
    registry.config.add_job(job())
    return registry


@pytest.fixture
def racing(racer):
    return Registry.over(RacingTree(racer.tree))


def consume_ready(racer, name="job"):
    """What the engine's launch transaction does to the ready counter (a guarded take)."""

    def hook(_ops):
        count, version = racer.ready.snapshot()[name]
        assert racer.ledger.take_ready_run(ReadyTake(name, count, version))

    return hook


def state_of(registry, name="job"):
    nodes = (
        paths.job(name),
        paths.ready(name),
        paths.last_fire(name),
        paths.disabled_job(name),
        paths.failover_job(name),
    )
    return {path for path in nodes if registry.tree.exists(path)}


def test_deregister_while_the_engine_consumes_the_ready_run(racer, racing):
    """The reported defect: the delete multi failed with NoNode, answered 404, left the job."""
    queue_runs(racer, "job")
    racing.tree.before(consume_ready(racer))
    assert racing.config.remove_job("job") is True
    assert state_of(racer) == set()
    assert racing.tree.hooks == []  # the consumption did happen in the window


def test_deregister_while_a_fire_is_written_leaves_no_state_behind(racer, racing):
    """The producer (guarded by the config version it scheduled) writes a fire after the plan's read:
    its last-fire and ready nodes are swept once the config is gone."""
    version = racer.config.get_jobs_versioned(["job"])["job"][1]

    def fire(_ops):
        [result] = racer.fires.write([FireWrite("job", version, 1_700_000_000.0, -1, 1, True)])
        assert result.error is None

    racing.tree.before(fire)
    assert racing.config.remove_job("job") is True
    assert state_of(racer) == set()


def test_the_sweep_leaves_a_job_registered_again_alone(racer, racing):
    version = racer.config.get_jobs_versioned(["job"])["job"][1]

    def fire(_ops):
        racer.fires.write([FireWrite("job", version, 1_700_000_000.0, -1, 1, True)])

    def register_again_and_trigger(_ops):
        clear_ready(racer, "job")
        racer.config.add_job(job())
        racer.ready.trigger("job", lambda j: j.misfire)

    racing.tree.before(fire, register_again_and_trigger)
    assert racing.config.remove_job("job") is True
    assert racer.config.get_job("job") == job()
    assert racer.ready.counts() == {"job": 1}


def test_trigger_and_disable_cannot_outlive_a_deregistration(racer, racing):
    def deregister(_ops):
        racer.config.remove_job("job")

    racing.tree.before(deregister)
    with pytest.raises(NotFound, match="job 'job' not found"):
        racing.ready.trigger("job", lambda j: j.misfire)
    racer.config.add_job(job())
    racing.tree.before(deregister)
    with pytest.raises(NotFound, match="job 'job' not found"):
        racing.disable.disable_job("job")
    assert state_of(racer) == set()


def test_a_failover_entry_is_not_queued_for_a_job_deregistered_meanwhile(racer, racing):
    racing.tree.before(lambda _ops: racer.config.remove_job("job"))
    assert racing.failover.add(FailoverEntry("job", 0, "job@-@0@-@READY@-@S0@-@u")) is False
    assert racer.failover.entries() == []


def test_a_failover_entry_survives_its_job_node_being_emptied_meanwhile(racer, racing):
    """Another shard's entry taken (the engine deletes the emptied job node) between the read that
    found ``/state/failover/{job}`` and the commit creating the entry under it."""
    racer.failover.add(FailoverEntry("job", 1, "job@-@1@-@READY@-@S0@-@a"))
    racing.tree.before(lambda _ops: racer.failover.withdraw("job", 1, "job@-@1@-@READY@-@S0@-@a"))
    assert racing.failover.add(FailoverEntry("job", 0, "job@-@0@-@READY@-@S0@-@b")) is True
    assert [(e.sharding_item, e.original_task_id) for e in racer.failover.entries()] == [
        (0, "job@-@0@-@READY@-@S0@-@b")
    ]


def test_an_app_deletion_takes_a_job_registered_meanwhile(racer, racing):
    racing.tree.before(lambda _ops: racer.config.add_job(job("late")))
    assert racing.config.remove_app("app") == ["job", "late"]
    assert racer.config.list_jobs() == [] and racer.config.list_apps() == []


def test_a_job_registered_after_its_app_went_is_refused(racer, racing):
    racing.tree.before(lambda _ops: racer.config.remove_app("app"))
    with pytest.raises(NotFound, match="app 'app' not found"):
        racing.config.add_job(job("late"))
    assert racer.config.list_jobs() == []


def test_concurrent_updates_lose_neither_change(racer, racing):
    racing.tree.before(lambda _ops: racer.config.update_job("job", lambda j: j.with_changes(cpu_count=2.0)))
    racing.config.update_job("job", lambda j: j.with_changes(sharding_total_count=7))
    stored = racer.config.get_job("job")
    assert (stored.cpu_count, stored.sharding_total_count) == (2.0, 7)


def test_an_update_moving_a_job_to_a_deleted_app_is_refused(racer, racing):
    racer.config.add_app(AppConfig("other", "http://h/o.tar.gz", "bin/start.sh"))
    racing.tree.before(lambda _ops: racer.config.remove_app("other"))
    with pytest.raises(InvalidConfig, match="app 'other' does not exist"):
        racing.config.update_job("job", lambda j: j.with_changes(app_name="other"))
    assert racer.config.get_job("job").app_name == "app"


def test_a_change_that_keeps_losing_answers_unavailable_and_changes_nothing(racer, racing, monkeypatch):
    monkeypatch.setattr(atomic, "BACKOFF_SECONDS", 0.0)
    queue_runs(racer, "job")

    def bump(_ops):  # another writer moves the counter before every attempt
        queue_runs(racer, "job")

    racing.tree.before(*[bump] * atomic.ATTEMPTS)
    with pytest.raises(RegistryUnavailable, match="changed concurrently 12 times"):
        racing.ready.trigger("job", lambda j: j.misfire)
    assert racer.ready.counts() == {"job": 1 + atomic.ATTEMPTS}
