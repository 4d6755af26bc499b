"""End to end, scheduler processes dying: a SIGKILLed scheduler restarted, and a standby taking over.

The schedulers are real ``elasticjob-cloud scheduler`` subprocesses (REST API, leader election in
ZooKeeper, producer, engine, pymesos driver); the local Mesos and the ZooKeeper views run in this
process, so they outlive the schedulers exactly as a Mesos cluster and a ZooKeeper ensemble would.

"No shard ran twice for one fire" is checked on what the jobs recorded (``schedkit.group_runs``):
the executions of the TRANSIENT job, sorted by start, must cut into consecutive whole runs (every
shard exactly once), every task ID must execute once, no FAILOVER task may appear (nothing was lost,
so a failover would be a second execution of its shard) and no run may start before the previous
one could have ended (each run sleeps ``SLEEP`` seconds). A new leader that relaunched a run its
predecessor had started, or that launched the next run while the old one still ran, breaks one of
these.
"""

from __future__ import annotations

import itertools
import time
from typing import Any

import pytest
import requests

from tests.scheduler.schedkit import (
    FAR_FUTURE,
    SchedulerProcess,
    app_body,
    group_runs,
    job_body,
    master_frameworks,
    read_records,
    tasks_by_shard,
)
from tests.support import wait_until

pytestmark = pytest.mark.slow

SLEEP = 0.8
SHARDS = 2
SESSION_TIMEOUT = 4.0  # --zk-session-timeout-seconds of every scheduler process


def api(process: SchedulerProcess, method: str, path: str, **kwargs: Any) -> requests.Response:
    kwargs.setdefault("timeout", 10)
    kwargs.setdefault("allow_redirects", False)
    return requests.request(method, f"{process.url}{path}", **kwargs)


def register(process: SchedulerProcess, packed_app) -> None:
    assert api(process, "POST", "/api/app", json=app_body(packed_app)).status_code == 204
    daemon = job_body("daemon", jobExecutionType="DAEMON", shardingTotalCount=SHARDS)
    cron = job_body("cron", shardingTotalCount=SHARDS, jobParameter=f"sleep={SLEEP}")
    for body in (daemon, cron):
        response = api(process, "POST", "/api/job/register", json=body)
        assert response.status_code == 204, response.text


def subscribed_leader(process: SchedulerProcess) -> dict[str, Any] | None:
    health = process.health()
    if health and health.get("role") == "leader" and (health.get("mesos") or {}).get("subscribed"):
        return health
    return None


def runs_after(records, instant: float) -> int:
    return len({r.task_id for r in records if r.job == "cron" and r.start > instant}) // SHARDS


def check_no_duplicate(stack) -> list[list[Any]]:
    """After ``stop_cron``: let the queued runs finish, then check every fire ran each shard once."""
    registry = stack.registry
    wait_until(
        lambda: (
            not registry.ready.counts().get("cron")
            and not [e for e in registry.running.entries() if e.job_name == "cron"]
        ),
        20,
        message="the queued runs of 'cron' to finish",
    )
    records = [r for r in read_records(stack.record_dir) if r.job == "cron"]
    assert len({r.task_id for r in records}) == len(records), "a task executed twice"
    assert {r.task_type for r in records} == {"READY"}, "a shard was failed over although nothing was lost"
    runs = group_runs(records, SHARDS)
    starts = [min(r.start for r in run) for run in runs]
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    assert all(gap >= SLEEP for gap in gaps), f"runs overlapped (a run launched twice?): {gaps}"
    return runs


def mid_run_and_suppressed(stack) -> bool:
    """A cron run is going and the leader has SUPPRESSed offers (nothing else pending): the moment
    to kill it, so that its successor must adopt that run and find offers suppressed."""
    frameworks = master_frameworks(stack.cluster.master_url)
    return (
        any(e.job_name == "cron" for e in stack.registry.running.entries())
        and len(frameworks) == 1
        and frameworks[0]["connected"]
        and not frameworks[0]["active"]
    )


def stop_cron(process: SchedulerProcess) -> None:
    response = api(process, "PUT", "/api/job/update", json={"jobName": "cron", "cron": FAR_FUTURE})
    assert response.status_code == 204, response.text


def daemon_tasks(stack) -> dict[int, str]:
    return {e.sharding_item: e.task_id for e in stack.registry.running.entries() if e.job_name == "daemon"}


def assert_the_work_goes_on(stack, framework_id, daemons, killed_at, after: str) -> list[dict]:
    """The same framework, still connected, keeps its daemon tasks and its cron after ``after``;
    returns the master's frameworks."""
    assert stack.registry.framework_id.get() == framework_id
    frameworks = master_frameworks(stack.cluster.master_url)
    assert [f["id"] for f in frameworks] == [framework_id] and frameworks[0]["connected"]
    wait_until(
        lambda: runs_after(read_records(stack.record_dir), killed_at) >= 3,
        12,
        message=f"cron runs after {after}",
    )
    assert daemon_tasks(stack) == daemons, "daemon tasks were relaunched"
    assert {r.task_id for r in read_records(stack.record_dir) if r.job == "daemon"} == set(daemons.values())
    return frameworks


def test_sigkilled_scheduler_restarts_with_the_same_framework_and_tasks(stack, packed_app) -> None:
    first = stack.scheduler("first")
    wait_until(lambda: subscribed_leader(first), 20, message="the scheduler to lead and subscribe")
    register(first, packed_app)
    wait_until(lambda: len(daemon_tasks(stack)) == SHARDS, 20, message="the daemon shards to run")
    wait_until(lambda: runs_after(read_records(stack.record_dir), 0) >= 2, 20, message="two cron runs")
    framework_id = stack.registry.framework_id.get()
    assert framework_id and [f["id"] for f in master_frameworks(stack.cluster.master_url)] == [framework_id]
    daemons = daemon_tasks(stack)
    wait_until(lambda: mid_run_and_suppressed(stack), 10, message="a cron run while offers are suppressed")

    first.kill()
    killed_at = time.time()
    second = stack.scheduler("second")
    wait_until(lambda: subscribed_leader(second), 30, message="the restarted scheduler to lead")

    frameworks = assert_the_work_goes_on(stack, framework_id, daemons, killed_at, "the restart")
    daemon_records = [r for r in read_records(stack.record_dir) if r.job == "daemon"]
    assert any(r.start > killed_at for r in daemon_records), "the daemons stopped running their cron"
    assert not [t for t in frameworks[0]["completed_tasks"] if t["id"] in daemons.values()]
    stop_cron(second)
    check_no_duplicate(stack)


def test_standby_takes_over_when_the_leader_is_killed(stack, packed_app) -> None:
    one, two = stack.scheduler("one"), stack.scheduler("two")
    wait_until(lambda: subscribed_leader(one) or subscribed_leader(two), 20, message="a leader")
    leader, standby = (one, two) if one.is_leader() else (two, one)
    assert standby.health()["role"] == "standby"
    assert standby.health()["leader"] == leader.url
    register(standby, packed_app)  # configuration goes to ZooKeeper from any instance

    response = api(standby, "POST", "/api/operate/reconcile/implicit")
    assert response.status_code == 307 and response.headers["Location"] == (
        f"{leader.url}/api/operate/reconcile/implicit"
    )
    for process in (leader, standby):
        response = api(process, "GET", "/api/job/jobs")
        assert response.status_code == 200
        assert sorted(job["jobName"] for job in response.json()) == ["cron", "daemon"]
    wait_until(lambda: len(daemon_tasks(stack)) == SHARDS, 20, message="the daemon shards to run")
    wait_until(lambda: runs_after(read_records(stack.record_dir), 0) >= 2, 20, message="two cron runs")
    framework_id = stack.registry.framework_id.get()
    assert [f["id"] for f in master_frameworks(stack.cluster.master_url)] == [framework_id]
    daemons = daemon_tasks(stack)
    wait_until(lambda: mid_run_and_suppressed(stack), 10, message="a cron run while offers are suppressed")

    leader.kill()
    killed_at = time.time()
    wait_until(lambda: subscribed_leader(standby), SESSION_TIMEOUT + 8, message="the standby to take over")
    took = time.time() - killed_at
    assert took < SESSION_TIMEOUT + 6, f"take-over took {took:.1f}s"

    assert_the_work_goes_on(stack, framework_id, daemons, killed_at, "the take-over")

    again = stack.scheduler("again")  # the killed instance comes back: as a standby
    wait_until(lambda: (again.health() or {}).get("role") == "standby", 10, message="a new standby")
    assert standby.is_leader()
    response = api(again, "POST", "/api/operate/reconcile/implicit")
    assert response.status_code == 307
    assert response.headers["Location"] == f"{standby.url}/api/operate/reconcile/implicit"
    assert api(standby, "POST", "/api/operate/reconcile/implicit").status_code == 204
    for process in (standby, again):
        response = api(process, "GET", "/api/job/jobs")
        assert response.status_code == 200
        assert sorted(job["jobName"] for job in response.json()) == ["cron", "daemon"]
    assert [f["id"] for f in master_frameworks(stack.cluster.master_url)] == [framework_id]
    stop_cron(standby)
    check_no_duplicate(stack)
    assert sorted(tasks_by_shard(r for r in read_records(stack.record_dir) if r.job == "daemon")) == [
        ("daemon", i) for i in range(SHARDS)
    ]
