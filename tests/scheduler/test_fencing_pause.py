"""A leader paused (SIGSTOP) past its ZooKeeper session timeout, then resumed (SIGCONT).

By the time it runs again the standby leads. The resumed process may run a round or write a fire
before kazoo reports its lost session; every such write carries a check of its old election node
(``registry.fencing``) and is refused, so it launches nothing. It then steps down (a standby again)
and stops its driver. The work goes on under the new leader: no daemon relaunched, no cron shard run
twice for one fire, no shard failed over (nothing was lost).

The resumed process also finds its Mesos event stream closed (the new leader's SUBSCRIBE took the
framework over) and pymesos subscribes again by itself at once; the master would hand the framework
back to it and cut the true leader off (its ACCEPT in flight answered TASK_DROPPED). The driver
subscribes only while the leadership is confirmed with ZooKeeper (``LeaderElection.confirmed``),
so the true leader keeps its stream.
"""

from __future__ import annotations

import logging
import os
import signal
import time

import pytest

from tests.scheduler.schedkit import read_records
from tests.scheduler.test_leadership import (
    SESSION_TIMEOUT,
    check_no_duplicate,
    daemon_tasks,
    register,
    runs_after,
    stop_cron,
    subscribed_leader,
)
from tests.support import wait_until

pytestmark = pytest.mark.slow


def test_a_leader_paused_past_its_session_steps_down_without_acting(stack, packed_app) -> None:
    one, two = stack.scheduler("one"), stack.scheduler("two")
    wait_until(lambda: subscribed_leader(one) or subscribed_leader(two), 20, message="a leader")
    leader, standby = (one, two) if one.is_leader() else (two, one)
    register(leader, packed_app)
    wait_until(lambda: len(daemon_tasks(stack)) == 2, 20, message="the daemon shards to run")
    wait_until(lambda: runs_after(read_records(stack.record_dir), 0) >= 2, 20, message="two cron runs")
    daemons = daemon_tasks(stack)

    os.kill(leader.pid, signal.SIGSTOP)
    paused_at = time.time()
    try:
        # the standby leads once the paused one's session expired (its election node went with it)
        wait_until(lambda: subscribed_leader(standby), SESSION_TIMEOUT + 12, message="the standby to lead")
        time.sleep(max(0.0, paused_at + SESSION_TIMEOUT + 1.0 - time.time()))
    finally:
        os.kill(leader.pid, signal.SIGCONT)
    resumed_at = time.time()

    wait_until(
        lambda: (leader.health() or {}).get("role") == "standby", 15, message="the old leader to step down"
    )
    assert standby.is_leader()
    assert "leadership lost: stopping the scheduler" in leader.log_tail(200_000)
    wait_until(
        lambda: runs_after(read_records(stack.record_dir), resumed_at) >= 2, 15, message="cron runs after"
    )
    assert daemon_tasks(stack) == daemons, "daemon tasks were relaunched"
    stop_cron(standby)
    check_no_duplicate(stack)


class _Subscriptions(logging.Handler):
    """Every SUBSCRIBE the in-process master takes (its frameworks module logs each one)."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        if "subscribed" in record.getMessage():
            self.count += 1


def test_a_resumed_leader_does_not_take_the_framework_back(stack) -> None:
    subscriptions = _Subscriptions()
    masters_log = logging.getLogger("elasticjob_cloud.localmesos.frameworks")
    masters_log.addHandler(subscriptions)
    level = masters_log.level
    masters_log.setLevel(logging.INFO)
    try:
        one, two = stack.scheduler("one"), stack.scheduler("two")
        wait_until(lambda: subscribed_leader(one) or subscribed_leader(two), 20, message="a leader")
        leader, standby = (one, two) if one.is_leader() else (two, one)

        os.kill(leader.pid, signal.SIGSTOP)
        try:
            wait_until(
                lambda: subscribed_leader(standby), SESSION_TIMEOUT + 12, message="the standby to lead"
            )
            (framework,) = stack.cluster.master.frameworks.values()
            stream = framework.stream
            taken = subscriptions.count
        finally:
            os.kill(leader.pid, signal.SIGCONT)
        wait_until(
            lambda: (leader.health() or {}).get("role") == "standby",
            15,
            message="the old leader to step down",
        )
        time.sleep(1.0)  # pymesos re-subscribes at once when its stream ends: give it every chance
        assert subscriptions.count == taken, "a SUBSCRIBE reached the master after the old leader resumed"
        assert framework.stream is stream and not stream.closed, "the true leader lost its event stream"
        assert subscribed_leader(standby)
    finally:
        masters_log.removeHandler(subscriptions)
        masters_log.setLevel(level)
