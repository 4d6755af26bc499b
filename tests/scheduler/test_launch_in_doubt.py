"""End to end, a launch whose ACCEPT answer is lost (issue #13): the connection to the local master
drops right after the master answered the ACCEPT (it launched the task), before the ACCEPT arrived
(it never will), or while the ACCEPT is still on its way (it arrives after the master was asked
about the task). Every time the shard runs exactly once: kept when the master has it, launched
again as the same run (FAILOVER, although the job does not fail over) only after the master
answered it never ran; the late ACCEPT launches nothing, as its offer was declined first (see
``mesos/launch_fence.py``).

Real ZooKeeper, the local Mesos behind a cutting TCP proxy, the pymesos drivers, the executor
subprocess and the packed example app, whose jobs record every execution (see ``schedkit``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from tests.mesos.test_driver import CuttingProxy
from tests.scheduler.schedkit import FAR_FUTURE, stays_true
from tests.support import wait_until

pytestmark = pytest.mark.slow


@contextmanager
def launch_cut(scheduler, **proxy_options) -> Iterator[CuttingProxy]:
    """The scheduler restarted behind a proxy to the master, job ``doubt`` registered and triggered,
    and the ACCEPT's connection cut (``CuttingProxy``: delivered or not, held or not)."""
    scheduler.stop_scheduler()
    proxy = CuttingProxy(scheduler.cluster.master_url, **proxy_options)
    try:
        scheduler.settings["mesos_url"] = proxy.address
        scheduler.start_scheduler()
        scheduler.job("doubt", cron=FAR_FUTURE, shardingTotalCount=1, failover=False)
        proxy.armed.set()
        scheduler.lifecycle.trigger("doubt")
        wait_until(proxy.cut.is_set, 20, message="the ACCEPT's connection to be cut")
        yield proxy
    finally:
        scheduler.stop_scheduler()
        proxy.close()


@pytest.mark.parametrize("deliver", [True, False], ids=["master-launched", "master-never-saw-it"])
def test_a_launch_whose_answer_is_lost_runs_its_shard_exactly_once(scheduler, deliver) -> None:
    with launch_cut(scheduler, deliver=deliver):
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


def test_an_accept_that_reaches_the_master_after_the_reconciliation_launches_nothing(scheduler) -> None:
    """The ACCEPT is held on its way until the master has answered the reconciliation ("unknown")
    and the shard was launched again: the master then refuses it (its offer was declined before
    the reconciliation was sent) and the first task never runs. Without the fence the late ACCEPT
    launched the task, and the shard ran twice."""
    with launch_cut(scheduler, deliver=True, hold=True) as proxy:
        wait_until(lambda: scheduler.events.launched_of("doubt"), 30, message="the shard launched again")
        (again,) = scheduler.events.launched_of("doubt")
        with scheduler.events.lock:
            (first,) = {t for t, _, _ in scheduler.events.updates if t.startswith("doubt@-@") and t != again}
        proxy.release.set()  # the ACCEPT reaches the master at last
        wait_until(lambda: len(scheduler.events.states(first)) >= 2, 20, message="the late ACCEPT's answer")
        assert scheduler.events.states(first) == ["TASK_GONE", "TASK_DROPPED"]  # unknown, then refused
        wait_until(
            lambda: scheduler.records("doubt") and not scheduler.running("doubt"), 30, message="the run"
        )
        assert stays_true(lambda: len(scheduler.records("doubt")) == 1, 2.0), "the shard ran twice"
        (record,) = scheduler.records("doubt")
        assert (record.task_id, record.task_type) == (again, "FAILOVER")
        assert scheduler.events.states(first) == ["TASK_GONE", "TASK_DROPPED"]  # never ran
