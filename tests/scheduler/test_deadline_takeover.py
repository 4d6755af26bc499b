"""End to end, a starting deadline across a leader change (issue #17): two real ``elasticjob-cloud
scheduler`` processes on a real ZooKeeper and the local Mesos; the leader is SIGKILLed while a run
waits, and the new leader drops it at the deadline counted from when it was queued, not from the
take-over. Proved from the new leader's own record of the drop (its log line and that line's time).
"""

from __future__ import annotations

import json
import time
from datetime import datetime

import pytest
import requests

from elasticjob_cloud.core import paths
from tests.scheduler.schedkit import APP, FAR_FUTURE, app_body, job_body
from tests.support import wait_until

pytestmark = pytest.mark.slow

DEADLINE = 12  # seconds: past the old leader's session expiry (4 s) and the new leader's start


def dropped(scheduler, job: str) -> list[dict]:
    """The scheduler's log records of ``job``'s queued runs dropped by their deadline."""
    path = scheduler.directory / f"{scheduler.name}.log"
    found = []
    for line in path.read_text(errors="replace").splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict) and f"job {job}: 1 queued run(s) dropped" in entry.get("message", ""):
            found.append(entry)
    return found


def test_a_new_leader_drops_a_stale_run_at_the_deadline_counted_from_when_it_was_queued(
    stack, packed_app, monkeypatch
) -> None:
    monkeypatch.setenv("log_format", "json")  # the schedulers' log lines carry their time (UTC)
    one, two = stack.scheduler("one"), stack.scheduler("two")
    wait_until(lambda: one.is_leader() or two.is_leader(), 20, message="a leader")
    leader, standby = (one, two) if one.is_leader() else (two, one)
    url = standby.url  # configuration goes to ZooKeeper from any instance
    assert requests.post(url + "/api/app", json=app_body(packed_app), timeout=10).status_code == 204
    body = job_body("stale", cron=FAR_FUTURE, startingDeadlineSeconds=DEADLINE)
    assert requests.post(url + "/api/job/register", json=body, timeout=10).status_code == 204
    # the app disabled: its job's run stays queued, whatever the offers
    assert requests.post(f"{url}/api/app/{APP}/disable", timeout=10).status_code == 204
    wait_until(lambda: (leader.health() or {}).get("mesos", {}).get("subscribed"), 20, message="subscribed")
    before = time.time()
    assert requests.post(url + "/api/job/trigger", json={"jobName": "stale"}, timeout=10).status_code == 204
    queued = time.time()
    assert stack.registry.ready.counts() == {"stale": 1}
    time.sleep(1.5)  # the old leader has seen the run queued (its rounds follow the queue's watch)
    leader.kill()
    wait_until(lambda: standby.is_leader(), 20, message="the standby to take over")
    took_over = time.time()
    wait_until(lambda: (standby.health() or {}).get("mesos", {}).get("subscribed"), 20, message="subscribed")
    serving = time.time()  # the new leader's rounds run from here
    wait_until(lambda: dropped(standby, "stale"), DEADLINE + 15, message="the stale run dropped")
    [drop] = dropped(standby, "stale")
    at = datetime.fromisoformat(drop["time"]).timestamp()
    print(
        f"take-over {took_over - queued:.2f} s, serving {serving - queued:.2f} s, drop {at - queued:.2f} s after the run was queued"
    )
    assert not stack.registry.tree.exists(paths.ready("stale"))
    # never early: not before the deadline counted from the trigger's start
    assert at >= before + DEADLINE, (at - before, drop)
    # not counted from the take-over (the old leader died 1.5 s after the run was queued, and its
    # session lasted 4 s more): well before the deadline counted from the new leader's start
    assert at < took_over + DEADLINE - 2, (at - queued, took_over - queued, drop)
    # within a round or so of the deadline (or of the new leader's first round, on a slow machine)
    assert at <= max(queued + DEADLINE, serving) + 3, (at - queued, serving - queued, drop)
    assert not dropped(leader, "stale")
