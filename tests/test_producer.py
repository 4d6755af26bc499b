"""The cron producer with an injected clock over the in-memory registry: no real sleeping."""

from datetime import UTC, datetime

import pytest

from elasticjob_cloud.core import paths
from elasticjob_cloud.core.cron import CronSchedule
from elasticjob_cloud.core.models import AppConfig, ExecutionType, JobConfig, JobType
from elasticjob_cloud.core.policies import RunPolicy
from elasticjob_cloud.exceptions import RegistryUnavailable
from elasticjob_cloud.producer.job_schedules import FireKind, ScheduledJob, count_due, next_fire
from elasticjob_cloud.producer.schedule import Producer
from elasticjob_cloud.registry import Registry
from elasticjob_cloud.registry.fires import encode_instant
from elasticjob_cloud.registry.memory import MemoryTree
from elasticjob_cloud.registry.tree import SetData
from tests.support import clear_ready

T0 = datetime(2026, 1, 1, tzinfo=UTC).timestamp()  # a Thursday, 00:00:00 UTC
APP = AppConfig("app", "http://h/app.tar.gz", "bin/start.sh")


def job(name="job", cron="0/5 * * * * ?", misfire=True, **changes):
    base = JobConfig(name, "app", JobType.SIMPLE, ExecutionType.TRANSIENT, cron, 2, 0.5, 64.0, "a.B")
    return base.with_changes(misfire=misfire, **changes)


class Clock:
    def __init__(self, t: float):
        self.t = t

    def __call__(self) -> float:
        return self.t


class Harness:
    """A producer plus a simulated loop: jump the clock exactly to each returned delay."""

    def __init__(self, registry, start=T0 + 0.5, zone="UTC", clock=None):
        self.registry, self.clock, self.records = registry, clock or Clock(start), []
        self.producer = Producer(registry, zone, self.clock, self.records.append)
        self.unwatch = self.producer.watch()

    def run_until(self, end: float) -> None:
        for _ in range(100_000):
            delay = self.producer.tick(self.clock.t)
            if self.clock.t + delay > end:
                self.clock.t = end
                self.producer.tick(end)
                return
            self.clock.t += delay
        raise AssertionError("the loop never reached its end (busy loop?)")

    def ready(self, name="job"):
        return self.registry.ready.counts().get(name)

    def kinds(self, name="job"):
        return [r.kind for r in self.records if r.job_name == name]


@pytest.fixture
def registry():
    registry = Registry.in_memory()
    registry.config.add_app(APP)
    return registry


@pytest.mark.parametrize(("misfire", "expected"), [(True, 4), (False, 1)])
def test_misfire_rule_on_each_fire(registry, misfire, expected):
    registry.config.add_job(job(misfire=misfire))
    h = Harness(registry)
    h.run_until(T0 + 20.5)  # fires at :05 :10 :15 :20
    assert h.ready() == expected
    assert h.producer.stats["job"].fires == 4
    assert h.kinds() == [FireKind.ANCHOR] + [FireKind.FIRE] * 4
    assert [r.instant - T0 for r in h.records[1:]] == [5, 10, 15, 20]


def test_sleeps_exactly_until_the_next_fire(registry):
    registry.config.add_job(job(cron="0/7 * * * * ?"))
    h = Harness(registry, start=T0 + 1.25)
    assert h.producer.tick(h.clock.t) == pytest.approx(5.75)  # next: :07


def test_daemon_jobs_are_not_produced(registry):
    registry.config.add_job(job(execution_type=ExecutionType.DAEMON))
    h = Harness(registry)
    h.run_until(T0 + 30)
    assert h.ready() is None and h.producer.scheduled == {} and h.records == []


@pytest.mark.parametrize("level", ["job", "app"])
def test_disabled_produces_nothing_and_no_backlog_after_enable(registry, level):
    registry.config.add_job(job())
    h = Harness(registry)
    h.run_until(T0 + 6)  # one fire at :05
    clear_ready(registry, "job")
    disable, enable = (
        (registry.disable.disable_job, registry.disable.enable_job)
        if level == "job"
        else (registry.disable.disable_app, registry.disable.enable_app)
    )
    disable("job" if level == "job" else "app")
    h.run_until(T0 + 61)
    assert h.ready() is None and "job" not in h.producer.scheduled
    enable("job" if level == "job" else "app")
    h.run_until(T0 + 66)  # only :65 after the enable at :61
    assert h.ready() == 1
    # a restart right after must not count the disabled minute as missed
    later = Harness(registry, start=T0 + 67)
    later.run_until(T0 + 68)
    assert later.producer.stats["job"].missed == 0 and h.ready() == 1


def test_update_reschedules_and_keeps_unrelated_changes_cheap(registry):
    registry.config.add_job(job())
    h = Harness(registry)
    h.run_until(T0 + 6)
    registry.config.replace_job(job(cron="0 * * * * ?"))  # once a minute from now on
    h.run_until(T0 + 59)
    assert h.ready() == 1
    assert h.producer.scheduled == {"job": T0 + 60}
    registry.config.replace_job(job(cron="0 * * * * ?", misfire=False, cpu_count=1.0))
    h.run_until(T0 + 121)
    assert h.ready() == 1  # misfire=false took effect without moving the schedule
    assert h.producer.scheduled == {"job": T0 + 180}


def test_deregister_unschedules_and_removes_the_last_fire_node(registry):
    registry.config.add_job(job())
    h = Harness(registry)
    h.run_until(T0 + 6)
    assert registry.tree.exists(paths.last_fire("job"))
    registry.config.remove_job("job")
    h.run_until(T0 + 30)
    assert not registry.tree.exists(paths.last_fire("job")) and h.ready() is None
    assert h.producer.scheduled == {}


def test_time_zones_job_zone_then_scheduler_default(registry):
    registry.config.add_job(job("tokyo", cron="0 0 9 * * ?", time_zone="Asia/Tokyo"))
    registry.config.add_job(job("default", cron="0 0 9 * * ?"))
    h = Harness(registry, zone="America/New_York")
    h.producer.tick(h.clock.t)
    assert h.producer.scheduled == {
        "tokyo": datetime(2026, 1, 2, 0, 0, tzinfo=UTC).timestamp(),  # 09:00 JST
        "default": datetime(2026, 1, 1, 14, 0, tzinfo=UTC).timestamp(),  # 09:00 EST
    }


@pytest.mark.parametrize(("misfire", "ready_after"), [(True, 1), (False, None)])
def test_restart_settles_the_gap_with_the_misfire_rule(registry, misfire, ready_after):
    registry.config.add_job(job(misfire=misfire))
    first = Harness(registry)
    first.run_until(T0 + 11)  # :05 :10
    clear_ready(registry, "job")
    for unwatch in first.unwatch:
        unwatch()
    second = Harness(registry, start=T0 + 31)  # :15 :20 :25 :30 fell in the gap
    second.producer.tick(second.clock.t)
    assert second.ready() == ready_after
    assert second.producer.stats["job"].missed == 4
    assert second.kinds() == [FireKind.CATCH_UP if misfire else FireKind.SKIP]
    assert second.records[0].missed == 4
    second.run_until(T0 + 36)
    assert second.ready() == (2 if misfire else 1)  # :35 as usual


@pytest.mark.parametrize(("deadline", "catch_up"), [(3, False), (4, False), (5, True)])
def test_a_gap_whose_latest_fire_is_older_than_the_starting_deadline_queues_no_catch_up(
    registry, deadline, catch_up
):
    """:15 :20 :25 :30 fell in the gap; the latest is 4 s old at the restart (:34): a catch-up run
    with ``startingDeadlineSeconds`` 3 or 4 would start past it (Kubernetes CronJob's rule for missed
    schedules), none is queued and the fire record says why; with 5 it runs."""
    registry.config.add_job(job(policy=RunPolicy(starting_deadline_seconds=deadline)))
    first = Harness(registry)
    first.run_until(T0 + 11)
    clear_ready(registry, "job")
    for unwatch in first.unwatch:
        unwatch()
    second = Harness(registry, start=T0 + 34)
    second.producer.tick(second.clock.t)
    assert second.ready() == (1 if catch_up else None)
    assert second.kinds() == [FireKind.CATCH_UP if catch_up else FireKind.DEADLINE_EXCEEDED]
    assert second.records[0].missed == 4 and second.records[0].runs == (1 if catch_up else 0)
    second.run_until(T0 + 36)
    assert second.ready() == (2 if catch_up else 1)  # :35 as usual


def test_new_job_starts_at_registration_without_catch_up(registry):
    registry.config.add_job(job())
    h = Harness(registry, start=T0 + 31)
    h.run_until(T0 + 36)
    assert h.ready() == 1 and h.producer.stats["job"].missed == 0


def test_two_producers_never_double_fire(registry):
    registry.config.add_job(job())
    registry.config.add_job(job("other", cron="* * * * * ?", misfire=True))
    a = Harness(registry)
    b = Harness(registry, clock=a.clock)
    for step in range(1, 41):  # both wake at every half second and race for the same instants
        a.clock.t = T0 + 0.5 * step
        (a if step % 2 else b).producer.tick(a.clock.t)
        (b if step % 2 else a).producer.tick(a.clock.t)
    assert registry.ready.counts() == {"job": 4, "other": 20}
    stats = [h.producer.stats[n] for h in (a, b) for n in ("job", "other")]
    assert sum(s.fires for s in stats) == 24 and sum(s.lost_races for s in stats) > 0


def test_queue_full_is_counted_not_fatal():
    registry = Registry.in_memory(queue_size=2)
    registry.config.add_app(APP)
    for name in ("a", "b", "c"):
        registry.config.add_job(job(name))
    h = Harness(registry)
    h.run_until(T0 + 11)
    assert sorted(registry.ready.counts()) == ["a", "b"]
    assert h.producer.stats["c"].refused == 2 and h.producer.totals().refused == 2
    assert h.kinds("c") == [FireKind.ANCHOR, FireKind.REFUSED, FireKind.REFUSED]
    registry.config.remove_job("a")
    h.run_until(T0 + 16)
    assert registry.ready.counts()["c"] == 1  # room again: produced as usual


class FlakyTree(MemoryTree):
    """Raises RegistryUnavailable while ``down``; ``lose_answers`` applies a commit but loses its reply."""

    down = False
    lose_answers = False

    def _check(self):
        if self.down:
            raise RegistryUnavailable("ZooKeeper unavailable (test)")

    def get_many(self, paths):
        self._check()
        return super().get_many(paths)

    def children(self, path):
        self._check()
        return super().children(path)

    def commit_many(self, batches):
        self._check()
        results = super().commit_many(batches)
        if self.lose_answers:
            return [RegistryUnavailable("answer lost (test)") for _ in results]
        return results


def test_outage_neither_crashes_nor_loses_nor_doubles_fires():
    tree = FlakyTree()
    registry = Registry.over(tree)
    registry.config.add_app(APP)
    registry.config.add_job(job())
    h = Harness(registry)
    h.run_until(T0 + 6)
    tree.down = True
    h.run_until(T0 + 13)  # :10 cannot be written; the loop backs off instead of failing
    assert tree.get(paths.ready("job"))[0] == b"1"
    tree.down, tree.lose_answers = False, True  # :10 is applied but the producer does not hear it
    h.producer.tick(T0 + 13.5)
    tree.lose_answers = False
    h.run_until(T0 + 16)  # the retry finds :10 already written: not added twice; :15 as usual
    assert h.ready() == 3


def test_a_late_loop_writes_every_covered_instant_once(registry):
    registry.config.add_job(job())
    h = Harness(registry)
    h.producer.tick(h.clock.t)
    h.producer.tick(T0 + 21)  # :05 :10 :15 :20 all due in one tick
    assert h.ready() == 4 and h.producer.stats["job"].writes == 2  # the anchor and one fire write


class CountingTree(MemoryTree):
    multis: list[int]

    def commit_many(self, batches):
        self.multis = [*getattr(self, "multis", []), *(len(ops) for ops in batches)]
        return super().commit_many(batches)


def test_a_batched_round_with_one_conflicting_job_fires_every_other_job_once():
    tree = CountingTree()
    registry = Registry.over(tree)
    registry.config.add_app(APP)
    names = [f"j{i:02d}" for i in range(12)]
    for name in names:
        registry.config.add_job(job(name))
    h = Harness(registry)
    h.run_until(T0 + 6)  # anchors and :05, each round in one multi
    assert all(h.ready(name) == 1 for name in names)
    tree.multis = []
    # another producer already wrote j05's :10 (its last fire and its run)
    last = tree.get(paths.last_fire("j05"))
    ready = tree.get(paths.ready("j05"))
    tree.commit(
        [
            SetData(paths.last_fire("j05"), encode_instant(T0 + 10), last[1]),
            SetData(paths.ready("j05"), b"2", ready[1]),
        ]
    )
    h.run_until(T0 + 11)
    assert {name: h.ready(name) for name in names} == {name: 2 for name in names}
    assert len(tree.multis) == 1 + len(names)  # the batch failed whole, then each job alone
    fired = [r.job_name for r in h.records if r.kind is FireKind.FIRE and r.instant == T0 + 10]
    assert sorted(fired) == [n for n in names if n != "j05"]
    assert h.producer.stats["j05"].lost_races == 1
    tree.multis = []
    h.run_until(T0 + 16)  # the next round is one multi again, j05 included
    assert len(tree.multis) == 1 and all(h.ready(name) == 3 for name in names)


def test_the_service_waits_until_the_next_fire_net_of_the_ticks_own_duration(registry):
    """A tick that took 0.3 s and asks for 1 s must be followed by a 0.7 s wait, not a full second
    (else every fire after a slow round starts late by that round's length)."""
    from elasticjob_cloud.producer.service import ProducerService

    clock = Clock(T0)
    service = ProducerService(registry, "UTC", clock)
    waits: list[float] = []

    class SlowProducer:
        def tick(self, now):
            clock.t = now + 0.3  # the round's own work
            return 1.0

    class RecordingEvent:
        def clear(self):
            pass

        def set(self):
            pass

        def wait(self, timeout):
            waits.append(round(timeout, 6))
            clock.t += timeout
            if len(waits) == 3:
                service._stopping.set()

    service.producer, service._wake = SlowProducer(), RecordingEvent()
    service._run()
    assert waits == [0.7, 0.7, 0.7]


def test_a_jobs_next_fire_lookup_reuses_only_the_same_instant_of_the_same_schedule():
    every_2s = CronSchedule.parse("*/2 * * * * ?", "UTC")
    every_3s = CronSchedule.parse("*/3 * * * * ?", "UTC")
    config = JobConfig(
        "memo", "app", JobType.SIMPLE, ExecutionType.TRANSIENT, "*/2 * * * * ?", 1, 0.1, 16.0, "x.Y"
    )
    job = ScheduledJob(config, 0, every_2s, 1000.0, -1)
    instants = [1000.0]
    for _ in range(5):  # as fires do: each looks up after the instant found last
        instants.append(job.next_fire(instants[-1]))
    assert instants[1:] == [1002.0, 1004.0, 1006.0, 1008.0, 1010.0]
    assert job.next_fire(1009.0) == next_fire(every_2s, 1009.0) == 1010.0
    job.schedule = every_3s  # re-timed: nothing of the old schedule is reused
    assert job.next_fire(1009.0) == next_fire(every_3s, 1009.0) == 1011.0
    assert (
        count_due(job.next_fire, 1000.0, 1006.5)
        == (2, 1005.0, 1008.0)
        == count_due(lambda t: next_fire(every_3s, t), 1000.0, 1006.5)
    )
