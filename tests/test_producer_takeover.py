"""The cron producer of a new leader (issue #13): its first load from the standby's decoded configs
(``registry.warm``), the gap settled as without them, and one summary line for the missed fires."""

from __future__ import annotations

import logging

import pytest

from elasticjob_cloud.producer.job_schedules import FireKind
from elasticjob_cloud.registry import Registry
from elasticjob_cloud.registry.warm import WarmJobs
from tests.support import clear_ready, wait_until
from tests.test_producer import APP, T0, Clock, Harness, job


@pytest.fixture
def registry():
    registry = Registry.in_memory()
    registry.config.add_app(APP)
    return registry


def never(names):
    raise AssertionError(f"configs read from the tree: {names}")


def test_the_first_load_takes_the_warm_configs_and_later_changes_are_read(registry, monkeypatch):
    registry.config.add_job(job("a"))
    registry.config.add_job(job("b", cron="0/7 * * * * ?"))
    warm = WarmJobs(registry.tree, registry.config, zone="UTC").start()
    try:
        wait_until(lambda: warm.reads == 2, message="the standby's first read")
        h = Harness(registry)
        h.producer.warm = warm
        read = registry.config.get_jobs_versioned
        monkeypatch.setattr(registry.config, "get_jobs_versioned", never)
        monkeypatch.setattr("elasticjob_cloud.producer.schedule.CronSchedule.parse", never)  # parsed already
        h.producer.tick(h.clock.t)
        assert h.producer.scheduled == {"a": T0 + 5, "b": T0 + 7}
        monkeypatch.undo()
        assert registry.config.get_jobs_versioned == read
        registry.config.update_job("a", lambda j: j.with_changes(cron="0/3 * * * * ?"))
        h.producer.tick(h.clock.t)
        assert h.producer.scheduled == {"a": T0 + 3, "b": T0 + 7}
    finally:
        warm.stop()


@pytest.mark.parametrize("warm_configs", [False, True])
def test_a_takeover_settles_the_gap_once_per_job_and_logs_it_in_one_line(registry, warm_configs, caplog):
    registry.config.add_job(job("a"))
    registry.config.add_job(job("b", misfire=False))
    first = Harness(registry)
    first.run_until(T0 + 11)  # :05 :10
    for unwatch in first.unwatch:
        unwatch()
    clear_ready(registry, "a")
    clear_ready(registry, "b")
    warm = WarmJobs(registry.tree, registry.config).start() if warm_configs else None
    try:
        second = Harness(registry, start=T0 + 31)  # :15 :20 :25 :30 fell in the gap
        second.producer.warm = warm
        with caplog.at_level(logging.DEBUG, logger="elasticjob_cloud"):
            second.producer.tick(second.clock.t)
        assert second.kinds("a") == [FireKind.CATCH_UP] and second.kinds("b") == [FireKind.SKIP]
        assert second.ready("a") == 1 and second.ready("b") is None
        assert [r.missed for r in second.records] == [4, 4]
        warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
        assert warnings == [
            "producer: 2 job(s) missed 8 fire(s) while no producer ran, scheduled from "
            "2026-01-01T00:00:15+00:00 to 2026-01-01T00:00:30+00:00; 1 catch-up run(s) queued, "
            "1 skipped (misfire=false)"
        ]
        per_job = [
            r.getMessage()
            for r in caplog.records
            if r.levelno == logging.DEBUG and "missed" in r.getMessage()
        ]
        assert len(per_job) == 2
        second.run_until(T0 + 36)
        assert second.ready("a") == 2  # :35 as usual, nothing doubled
    finally:
        if warm is not None:
            warm.stop()


def test_a_job_the_standby_followed_to_its_last_fire_is_scheduled_without_a_cron_search(
    registry, monkeypatch
):
    registry.config.add_job(job("a"))  # 0/5
    registry.config.add_job(job("b", cron="0/7 * * * * ?"))
    first = Harness(registry)
    first.run_until(T0 + 11)  # a at :05 :10, b at :07
    for unwatch in first.unwatch:
        unwatch()
    clock = Clock(T0 + 3)
    warm = WarmJobs(registry.tree, registry.config, zone="UTC", clock=clock).start()
    try:
        wait_until(lambda: warm.reads == 2, message="the standby's first read")
        clock.t = T0 + 12
        warm._advance(clock.t)  # what its thread does as the instants pass
        snapshot = warm.snapshot()
        assert warm.expected(snapshot["a"][0], "UTC") == (T0 + 10, T0 + 15)
        assert warm.expected(snapshot["b"][0], "UTC") == (T0 + 7, T0 + 14)
        assert warm.expected(snapshot["a"][0], "Asia/Tokyo") is None
        second = Harness(registry, start=T0 + 12.5)  # elected: nothing fell in the gap
        second.producer.warm = warm
        monkeypatch.setattr("elasticjob_cloud.core.cron.CronSchedule.next_after", never)
        second.producer.tick(second.clock.t)
        monkeypatch.undo()
        assert second.producer.scheduled == {"a": T0 + 15, "b": T0 + 14}
        assert second.records == [] and second.producer.stats["a"].missed == 0
        second.run_until(T0 + 15.5)
        assert second.kinds("a") == [FireKind.FIRE] and second.kinds("b") == [FireKind.FIRE]
    finally:
        warm.stop()
