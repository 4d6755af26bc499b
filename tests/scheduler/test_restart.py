"""End to end, a leader's scheduler stopped and a new one started on the same registry (what a new
leader does), in this process: the framework keeps its ID and the new scheduler launches again."""

from __future__ import annotations

import pytest
import requests

from tests.scheduler.schedkit import FAR_FUTURE
from tests.support import wait_until

pytestmark = pytest.mark.slow


def suppressed_after_a_run(scheduler, job: str) -> str:
    """Run ``job`` once; wait until the framework SUPPRESSed offers (nothing pending, no fire soon)."""
    scheduler.lifecycle.trigger(job)
    wait_until(lambda: scheduler.records(job), 20, message="a first run")
    wait_until(lambda: not scheduler.running(job), 10, message="the run to end")
    wait_until(lambda: scheduler.engine.suppressed, 10, message="offers to be suppressed")
    framework_id = scheduler.registry.framework_id.get()
    assert framework_id
    return framework_id


def test_new_scheduler_on_a_suppressed_framework_launches_again(scheduler) -> None:
    scheduler.job("once", cron=FAR_FUTURE)
    framework_id = suppressed_after_a_run(scheduler, "once")
    scheduler.stop_scheduler()
    scheduler.lifecycle.trigger("once")  # work is waiting when the new scheduler subscribes
    scheduler.start_scheduler()

    wait_until(lambda: len(scheduler.records("once")) == 2, 8, message="the run triggered after the restart")
    assert scheduler.registry.framework_id.get() == framework_id


def test_new_scheduler_knows_its_framework_id(scheduler) -> None:
    scheduler.job("daemon", jobExecutionType="DAEMON")
    wait_until(lambda: scheduler.records("daemon"), 20, message="the daemon to run")
    framework_id = scheduler.registry.framework_id.get()
    assert scheduler.engine.framework_id == framework_id
    scheduler.stop_scheduler()
    scheduler.start_scheduler()

    assert scheduler.registry.framework_id.get() == framework_id
    frameworks = requests.get(f"http://{scheduler.cluster.master_url}/state", timeout=5).json()["frameworks"]
    assert [f["id"] for f in frameworks] == [framework_id]
    assert scheduler.service is not None and scheduler.service.status()["frameworkId"] == framework_id
