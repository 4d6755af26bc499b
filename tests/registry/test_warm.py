"""``WarmJobs``: every job's decoded config, kept current while a standby waits, on both backends.

What it hands a new leader must equal what reading ZooKeeper then gives (the oracle:
``config.get_jobs_versioned`` of every name), and keeping it current must cost one read per changed
job, not a read of the whole catalog.
"""

from __future__ import annotations

import pytest

from elasticjob_cloud.core.cron import CronSchedule
from elasticjob_cloud.core.models import AppConfig, ExecutionType, JobConfig, JobType
from elasticjob_cloud.registry.warm import WarmJobs
from tests.support import wait_until

APP = AppConfig("app", "http://h/app.tar.gz", "bin/start.sh")


def job(name: str, cron: str = "0/5 * * * * ?") -> JobConfig:
    return JobConfig(name, "app", JobType.SIMPLE, ExecutionType.TRANSIENT, cron, 1, 0.5, 64.0, "a.B")


def stored(registry) -> dict:
    found = registry.config.get_jobs_versioned(registry.config.job_names())
    return {name: entry for name, entry in found.items() if entry is not None}


@pytest.fixture
def warm(registry):
    registry.config.add_app(APP)
    for n in range(20):
        registry.config.add_job(job(f"job{n:02d}"))
    warm = WarmJobs(registry.tree, registry.config, settle=0.05).start()
    yield warm
    warm.stop()


def test_the_snapshot_is_every_job_decoded_as_stored(registry, warm):
    snapshot = warm.snapshot()
    assert snapshot == stored(registry) and len(snapshot) == 20
    assert snapshot["job03"][0] == job("job03")


def test_changes_are_followed_reading_only_the_changed_jobs(registry, warm):
    warm.snapshot()
    reads = warm.reads
    registry.config.add_job(job("new"))
    registry.config.update_job("job05", lambda j: j.with_changes(cron="0 0 * * * ?"))
    registry.config.remove_job("job07")
    # the standby's own thread follows without being asked
    wait_until(lambda: warm.reads >= reads + 3 and not warm._dirty, message="the changed jobs re-read")
    snapshot = warm.snapshot()
    assert snapshot == stored(registry)
    assert snapshot["job05"][0].cron == "0 0 * * * ?" and snapshot["new"][0] == job("new")
    assert "job07" not in snapshot and len(snapshot) == 20
    assert warm.reads - reads <= 6  # the changed jobs (an event or two each), not all 20 again


def test_a_snapshot_after_the_change_was_reported_already_has_it(registry):
    """No waiting for the thread (here: one that waits an hour): what an event reported before the
    call is read by the call."""
    registry.config.add_app(APP)
    registry.config.add_job(job("job01"))
    warm = WarmJobs(registry.tree, registry.config, settle=3600).start()
    try:
        wait_until(lambda: warm.reads == 1, message="the first read")
        registry.config.update_job("job01", lambda j: j.with_changes(cron="0 1 * * * ?"))
        wait_until(lambda: warm._dirty, message="the change reported")
        assert warm.snapshot()["job01"][0].cron == "0 1 * * * ?"
        assert warm.snapshot() == stored(registry)
    finally:
        warm.stop()


def test_a_lost_connection_reads_everything_again(registry, warm):
    warm.snapshot()
    reads = warm.reads
    warm.mark(None)  # what a reconnection reports: events may have been missed
    assert warm.snapshot() == stored(registry)
    assert warm.reads - reads == 20


def test_with_a_default_zone_each_transient_jobs_cron_is_parsed_for_that_config_only(registry):
    registry.config.add_app(APP)
    registry.config.add_job(job("utc"))
    registry.config.add_job(job("tokyo", cron="0 0 9 * * ?").with_changes(time_zone="Asia/Tokyo"))
    registry.config.add_job(job("daemon").with_changes(execution_type=ExecutionType.DAEMON))
    warm = WarmJobs(registry.tree, registry.config, zone="UTC").start()
    try:
        snapshot = warm.snapshot()
        assert warm.schedule(snapshot["utc"][0], "UTC") == CronSchedule.parse("0/5 * * * * ?", "UTC")
        assert warm.schedule(snapshot["tokyo"][0], "UTC") == CronSchedule.parse("0 0 9 * * ?", "Asia/Tokyo")
        assert warm.schedule(snapshot["daemon"][0], "UTC") is None  # the producer does not schedule it
        assert warm.schedule(snapshot["utc"][0], "Europe/Paris") is None  # another default zone
        assert warm.schedule(job("utc"), "UTC") is None  # an equal config, not the one handed out
        registry.config.update_job("utc", lambda j: j.with_changes(cron="0 0 * * * ?"))
        wait_until(lambda: warm.snapshot()["utc"][0].cron == "0 0 * * * ?", message="the update followed")
        assert warm.schedule(snapshot["utc"][0], "UTC") is None  # the old config's schedule is gone
        assert warm.schedule(warm.snapshot()["utc"][0], "UTC") == CronSchedule.parse("0 0 * * * ?", "UTC")
    finally:
        warm.stop()
