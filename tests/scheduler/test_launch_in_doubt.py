"""End to end, a launch whose ACCEPT answer is lost (issue #13): the connection to the local master
drops right after the ACCEPT went out (the master launched it) or before it arrived (it did not).
Either way the shard runs exactly once: kept when the master has it, launched again as the same run
(FAILOVER, although the job does not fail over) only after the master answered it never ran.

Real ZooKeeper, the local Mesos behind a cutting TCP proxy, the pymesos drivers, the executor
subprocess and the packed example app, whose jobs record every execution (see ``schedkit``).
"""

from __future__ import annotations

import pytest

from tests.mesos.test_driver import CuttingProxy
from tests.scheduler.schedkit import FAR_FUTURE, stays_true
from tests.support import wait_until

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("deliver", [True, False], ids=["master-launched", "master-never-saw-it"])
def test_a_launch_whose_answer_is_lost_runs_its_shard_exactly_once(scheduler, deliver) -> None:
    scheduler.stop_scheduler()
    proxy = CuttingProxy(scheduler.cluster.master_url, deliver)
    try:
        scheduler.settings["mesos_url"] = proxy.address
        scheduler.start_scheduler()
        scheduler.job("doubt", cron=FAR_FUTURE, shardingTotalCount=1, failover=False)
        proxy.armed.set()
        scheduler.lifecycle.trigger("doubt")
        wait_until(proxy.cut.is_set, 20, message="the ACCEPT's connection to be cut")
        wait_until(
            lambda: scheduler.records("doubt") and not scheduler.running("doubt"),
            30,
            message="the shard to run and end",
        )
        assert stays_true(lambda: len(scheduler.records("doubt")) == 1, 2.0), "the shard ran twice"
        (record,) = scheduler.records("doubt")
        assert record.item == 0
        assert record.task_type == ("READY" if deliver else "FAILOVER")
        assert scheduler.engine.stats.launches_in_doubt == 1
        assert scheduler.registry.failover.entries() == []
    finally:
        scheduler.stop_scheduler()
        proxy.close()
