"""Random sequences of app and job operations, triggers, fires and engine-like consumption, checked
against a model after every step, on the in-memory twin and on a real ZooKeeper.

Some operations run "raced": another writer (the engine taking a ready run, the producer writing a
fire, a trigger, a deregistration) acts between the operation's reads and its commit, through
``RacingTree``. The model applies the racer's effect first and then the operation's, which is what a
linearizable store must show. After every step the stored apps, jobs, disable marks, ready counters,
failover entries and last fires must equal the model's.
"""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from elasticjob_cloud.core import paths
from elasticjob_cloud.core.models import AppConfig, ExecutionType, JobConfig, JobType
from elasticjob_cloud.core.ports import FailoverEntry, ReadyTake
from elasticjob_cloud.exceptions import AlreadyExists, Conflict, InvalidConfig, NotFound
from elasticjob_cloud.lifecycle import Lifecycle
from elasticjob_cloud.registry import Registry
from elasticjob_cloud.registry.fires import FireWrite
from elasticjob_cloud.registry.memory import MemoryTree
from elasticjob_cloud.registry.zookeeper import KazooTree, ZooKeeperConnection
from tests.registry.racing import RacingTree

APPS = st.sampled_from(["a", "b"])
JOBS = st.sampled_from(["j1", "j2", "j3"])
ITEMS = st.integers(0, 2)
RACERS = st.sampled_from([None, "consume", "fire", "trigger", "deregister"])
QUEUE = 1000
_instants = itertools.count(1_700_000_000)


@dataclass
class Model:
    apps: dict[str, AppConfig] = field(default_factory=dict)
    jobs: dict[str, JobConfig] = field(default_factory=dict)
    disabled_apps: set[str] = field(default_factory=set)
    disabled_jobs: set[str] = field(default_factory=set)
    ready: dict[str, int] = field(default_factory=dict)
    failover: dict[tuple[str, int], str] = field(default_factory=dict)
    last_fire: dict[str, float] = field(default_factory=dict)

    def forget_job(self, name: str) -> None:
        self.jobs.pop(name, None)
        self.disabled_jobs.discard(name)
        self.ready.pop(name, None)
        self.last_fire.pop(name, None)
        for key in [k for k in self.failover if k[0] == name]:
            del self.failover[key]

    def queue(self, name: str, misfire: bool, runs: int = 1) -> int:
        self.ready[name] = self.ready.get(name, 0) + runs if misfire else 1
        return self.ready[name]


def a_job(name: str, app: str, misfire: bool, daemon: bool, shards: int = 3) -> JobConfig:
    kind = ExecutionType.DAEMON if daemon else ExecutionType.TRANSIENT
    return JobConfig(
        name, app, JobType.SIMPLE, kind, "0/1 * * * * ?", shards, 0.5, 64.0, "a.B", misfire=misfire
    )


class StoreMachine(RuleBasedStateMachine):
    hosts: str | None = None  # a ZooKeeper server: each example gets a chroot of its own

    def __init__(self) -> None:
        super().__init__()
        self.connection: ZooKeeperConnection | None = None
        if self.hosts is None:
            inner: Any = MemoryTree()
        else:
            self.connection = ZooKeeperConnection(f"{self.hosts}/p-{uuid.uuid4().hex[:10]}").start()
            inner = KazooTree(self.connection)
        self.racer = Registry.over(inner, QUEUE)
        self.tree = RacingTree(inner)
        self.store = Registry.over(self.tree, QUEUE)
        self.lifecycle = Lifecycle(self.store)
        self.model = Model()

    def teardown(self) -> None:
        if self.connection is not None:
            self.connection.stop()

    # ---------------------------------------------------------------- the other writer
    def race(self, racer: str | None, name: str) -> None:
        """Queue ``racer`` to act on job ``name`` just before the next commit (its effect modelled
        when it acts)."""
        if racer is None:
            return

        def act(_ops: Any) -> None:
            if racer == "consume":
                self._consume(name)
            elif racer == "fire":
                self._fire(name, 1)
            elif racer == "trigger":
                self._trigger(name)
            elif racer == "deregister":
                assert self.racer.config.remove_job(name) is (name in self.model.jobs)
                self.model.forget_job(name)

        self.tree.before(act)

    def _consume(self, name: str) -> None:
        snapshot = self.racer.ready.snapshot()
        if name in snapshot:
            count, version = snapshot[name]
            assert self.racer.ledger.take_ready_run(ReadyTake(name, count, version))
            if count <= 1:
                del self.model.ready[name]
            else:
                self.model.ready[name] = count - 1

    def _fire(self, name: str, runs: int) -> None:
        config = self.racer.config.get_jobs_versioned([name])[name]
        if config is None:
            return
        last = self.racer.fires.last_fires([name])[name]
        instant = float(next(_instants))
        write = FireWrite(
            name, config[1], instant, -1 if last is None else last.version, runs, config[0].misfire
        )
        [result] = self.racer.fires.write([write])
        assert result.error is None, result.error
        self.model.last_fire[name] = instant
        if runs:
            self.model.queue(name, config[0].misfire, runs)

    def _trigger(self, name: str) -> None:
        job = self.model.jobs.get(name)
        if job is None or job.is_daemon:
            return
        assert self.racer.ready.trigger(name, lambda j: j.misfire) == self.model.queue(name, job.misfire)

    def expect(self, error: type[Exception] | None, call: Any) -> Any:
        if error is None:
            return call()
        with pytest.raises(error):
            call()
        return None

    # ---------------------------------------------------------------- apps
    @rule(name=APPS)
    def add_app(self, name: str) -> None:
        app = AppConfig(name, f"http://h/{name}.tar.gz", "bin/start.sh")
        self.expect(
            AlreadyExists if name in self.model.apps else None, lambda: self.store.config.add_app(app)
        )
        self.model.apps.setdefault(name, app)

    @rule(name=APPS, racer=RACERS, job=JOBS)
    def remove_app(self, name: str, racer: str | None, job: str) -> None:
        self.race(racer, job)
        removed = self.store.config.remove_app(name)
        self.tree.hooks.clear()
        mine = sorted(j for j, c in self.model.jobs.items() if c.app_name == name)
        assert removed == mine
        for j in mine:
            self.model.forget_job(j)
        self.model.apps.pop(name, None)
        self.model.disabled_apps.discard(name)

    @rule(name=APPS, disable=st.booleans())
    def toggle_app(self, name: str, disable: bool) -> None:
        if disable:
            missing = name not in self.model.apps
            self.expect(NotFound if missing else None, lambda: self.lifecycle.disable_app(name))
            if not missing:
                self.model.disabled_apps.add(name)
        else:
            self.store.disable.enable_app(name)
            self.model.disabled_apps.discard(name)

    # ---------------------------------------------------------------- jobs
    @rule(name=JOBS, app=APPS, misfire=st.booleans(), daemon=st.booleans())
    def add_job(self, name: str, app: str, misfire: bool, daemon: bool) -> None:
        job = a_job(name, app, misfire, daemon)
        error = NotFound if app not in self.model.apps else AlreadyExists if name in self.model.jobs else None
        self.expect(error, lambda: self.store.config.add_job(job))
        if error is None:
            self.model.jobs[name] = job

    @rule(name=JOBS, app=APPS, shards=st.integers(1, 4), racer=RACERS)
    def update_job(self, name: str, app: str, shards: int, racer: str | None) -> None:
        self.race(None if racer == "deregister" else racer, name)
        error = (
            NotFound if name not in self.model.jobs else InvalidConfig if app not in self.model.apps else None
        )
        change = lambda j: j.with_changes(app_name=app, sharding_total_count=shards)  # noqa: E731
        self.expect(error, lambda: self.store.config.update_job(name, change))
        self.tree.hooks.clear()
        if error is None:
            self.model.jobs[name] = change(self.model.jobs[name])

    @rule(name=JOBS, racer=RACERS)
    def remove_job(self, name: str, racer: str | None) -> None:
        self.race(racer, name)
        existed = name in self.model.jobs
        removed = self.lifecycle.deregister_job(name)
        raced = racer is not None and not self.tree.hooks  # the racer acted inside the window
        self.tree.hooks.clear()
        assert removed is (existed and not (raced and racer == "deregister"))
        self.model.forget_job(name)

    @rule(name=JOBS, disable=st.booleans(), racer=st.sampled_from([None, "deregister"]))
    def toggle_job(self, name: str, disable: bool, racer: str | None) -> None:
        if not disable:
            self.store.disable.enable_job(name)
            self.model.disabled_jobs.discard(name)
            return
        self.race(racer, name)
        # a deregistration in the window makes a disable that had to write find the job gone
        writes = name in self.model.jobs and name not in self.model.disabled_jobs
        missing = name not in self.model.jobs or (racer is not None and writes)
        self.expect(NotFound if missing else None, lambda: self.lifecycle.disable_job(name))
        self.tree.hooks.clear()
        if not missing:
            self.model.disabled_jobs.add(name)

    @rule(name=JOBS, racer=st.sampled_from([None, "consume", "fire", "deregister"]))
    def trigger(self, name: str, racer: str | None) -> None:
        self.race(racer, name)
        job = self.model.jobs.get(name)
        if job is None or (racer == "deregister" and not job.is_daemon):
            self.expect(NotFound, lambda: self.lifecycle.trigger(name))
        elif job.is_daemon:
            self.expect(Conflict, lambda: self.lifecycle.trigger(name))
        else:
            count = self.lifecycle.trigger(name)
            assert count == self.model.queue(name, job.misfire)
        self.tree.hooks.clear()

    # ---------------------------------------------------------------- producer and engine
    @rule(name=JOBS, runs=st.integers(0, 2))
    def fire(self, name: str, runs: int) -> None:
        self._fire(name, runs)

    @rule(name=JOBS)
    def consume(self, name: str) -> None:
        self._consume(name)

    @rule(name=JOBS, item=ITEMS, racer=st.sampled_from([None, "deregister"]))
    def fail_over(self, name: str, item: int, racer: str | None) -> None:
        self.race(racer, name)
        task_id = f"{name}@-@{item}@-@READY@-@S0@-@{uuid.uuid4().hex[:6]}"
        added = self.store.failover.add(FailoverEntry(name, item, task_id))
        self.tree.hooks.clear()
        expected = name in self.model.jobs and (name, item) not in self.model.failover
        assert added is (expected and racer is None)  # a deregistration in the window: nothing queued
        if added:
            self.model.failover[(name, item)] = task_id

    @rule(name=JOBS, item=ITEMS)
    def take_failover(self, name: str, item: int) -> None:
        task_id = self.model.failover.pop((name, item), None)  # a launch took it, or it was withdrawn
        if task_id is not None:
            assert self.store.failover.withdraw(name, item, task_id) is True

    # ---------------------------------------------------------------- the check
    @invariant()
    def stored_state_equals_the_model(self) -> None:
        store, model = self.racer, self.model
        assert {a.app_name: a for a in store.config.list_apps()} == model.apps
        assert {j.job_name: j for j in store.config.list_jobs()} == model.jobs
        assert store.disable.disabled_apps() == model.disabled_apps
        assert store.disable.disabled_jobs() == model.disabled_jobs
        assert store.ready.counts() == model.ready
        assert {(e.job_name, e.sharding_item): e.original_task_id for e in store.failover.entries()} == (
            model.failover
        )
        names = store.tree.children(paths.PRODUCER)
        assert {n: f.instant for n, f in store.fires.last_fires(names).items() if f} == model.last_fire


SETTINGS = dict(deadline=None, suppress_health_check=list(HealthCheck), database=None)


def test_the_in_memory_store_follows_the_model() -> None:
    run_state_machine_as_test(
        StoreMachine, settings=settings(max_examples=300, stateful_step_count=50, **SETTINGS)
    )


def test_the_zookeeper_store_follows_the_model(zk_server) -> None:
    machine = type("ZooKeeperStoreMachine", (StoreMachine,), {"hosts": zk_server.hosts})
    run_state_machine_as_test(machine, settings=settings(max_examples=25, stateful_step_count=40, **SETTINGS))
