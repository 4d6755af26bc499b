"""End to end, job dependencies (issue #17): proved from the jobs' own execution records.

Real ZooKeeper, the local Mesos, the pymesos drivers, the executor subprocess and the packed example
app (``schedkit``); the leader-change test runs two real ``elasticjob-cloud scheduler`` processes.
"""

from __future__ import annotations

import time

import pytest
import requests

from elasticjob_cloud.core import paths
from tests.scheduler.schedkit import FAR_FUTURE, app_body, job_body, read_records
from tests.support import wait_until

pytestmark = pytest.mark.slow

SLEEP = 1.0


def after(scheduler, name: str, **fields) -> None:
    """Register a job that runs only after its upstreams (no cron of its own)."""
    body = job_body(name, **fields)
    del body["cron"]
    scheduler.lifecycle.register_job(body)
    wait_until(lambda: name in scheduler.engine.catalog.jobs, 5, message=f"the engine to know {name}")


def test_a_chain_runs_each_job_once_after_its_upstream_succeeded(scheduler) -> None:
    """a (2 shards, 1 s each) → b → c: b starts only after both shards of a ended, c after b."""
    scheduler.job("a", cron=FAR_FUTURE, shardingTotalCount=2, jobParameter=f"sleep={SLEEP}")
    after(scheduler, "b", dependsOn=["a"], jobParameter=f"sleep={SLEEP}")
    after(scheduler, "c", dependsOn=["b"])
    scheduler.lifecycle.trigger("a")
    wait_until(lambda: scheduler.records("c"), 40, message="c to run")
    a, b, c = (scheduler.records(n) for n in ("a", "b", "c"))
    assert sorted(r.item for r in a) == [0, 1] and len(b) == 1 and len(c) == 1
    assert b[0].start >= max(r.start for r in a) + SLEEP, "b started before a ended"
    assert c[0].start >= b[0].start + SLEEP, "c started before b ended"
    assert scheduler.lifecycle.job_dependencies("b")["queuedRuns"] == 1
    assert [e["state"] for e in scheduler.lifecycle.job_dependencies("c")["upstreams"]] == ["WAITING"]


def test_a_failed_upstream_runs_an_all_done_downstream_but_not_an_all_succeeded_one(scheduler) -> None:
    """Shard 1 of a fails: ``strict`` (ALL_SUCCEEDED) does not run, ``lenient`` (ALL_DONE) does; both
    are decided in the same transaction, so once lenient ran, strict's edge is already FAILED."""
    scheduler.job("a", cron=FAR_FUTURE, shardingTotalCount=2, shardingItemParameters="0=ok,1=fail")
    after(scheduler, "strict", dependsOn=["a"])
    after(scheduler, "lenient", dependsOn=["a"], dependencyPolicy="ALL_DONE")
    scheduler.lifecycle.trigger("a")
    wait_until(lambda: scheduler.records("lenient"), 30, message="the ALL_DONE downstream to run")
    assert scheduler.records("strict") == []
    edges = scheduler.registry.dependencies.edges_of("strict")["edges"]
    assert edges["a"]["state"] == "FAILED"
    assert not scheduler.registry.ready.counts().get("strict")
    scheduler.lifecycle.update_job({"jobName": "a", "shardingItemParameters": "0=ok,1=ok"})
    scheduler.lifecycle.trigger("a")  # a successful run of a: now strict runs
    wait_until(lambda: scheduler.records("strict"), 30, message="strict after a successful a")
    wait_until(lambda: len(scheduler.records("lenient")) == 2, 30, message="lenient's second run")


def settled(stack) -> bool:
    registry = stack.registry
    return (
        not registry.ready.counts()
        and not registry.running.entries()
        and not registry.tree.children(paths.run_outcomes_job("a"))
        and not registry.tree.children(paths.run_outcomes_job("b"))
    )


def test_a_leader_killed_between_the_upstreams_end_and_the_downstreams_start_gives_one_run(
    stack, packed_app
) -> None:
    one, two = stack.scheduler("one"), stack.scheduler("two")
    wait_until(lambda: one.is_leader() or two.is_leader(), 20, message="a leader")
    leader, standby = (one, two) if one.is_leader() else (two, one)
    url = standby.url  # configuration goes to ZooKeeper from any instance
    assert requests.post(url + "/api/app", json=app_body(packed_app), timeout=10).status_code == 204
    for body in (
        job_body("a", cron=FAR_FUTURE, jobParameter=f"sleep={SLEEP}"),
        {k: v for k, v in job_body("b", dependsOn=["a"]).items() if k != "cron"},
        {k: v for k, v in job_body("c", dependsOn=["b"]).items() if k != "cron"},
    ):
        response = requests.post(url + "/api/job/register", json=body, timeout=10)
        assert response.status_code == 204, response.text
    wait_until(lambda: (leader.health() or {}).get("mesos", {}).get("subscribed"), 20, message="subscribed")
    assert requests.post(url + "/api/job/trigger", json={"jobName": "a"}, timeout=10).status_code == 204
    records = lambda job: [r for r in read_records(stack.record_dir) if r.job == job]  # noqa: E731
    wait_until(lambda: records("a"), 20, message="a to start")
    wait_until(lambda: not stack.registry.running.entries(), 20, 0.005, message="a to end")
    leader.kill()  # a ended: its run completed or not yet, b queued or not yet, launched or not yet
    killed_at = time.time()
    registry = stack.registry
    landed = {  # where the kill fell, for the failure message
        "a outcomes": registry.tree.children(paths.run_outcomes_job("a")),
        "ready": registry.ready.counts(),
        "b started": bool(records("b")),
    }
    print("killed at", landed)
    wait_until(lambda: standby.is_leader(), 20, message="the standby to take over")
    wait_until(lambda: records("c"), 40, message="c after the take-over")
    wait_until(lambda: settled(stack), 20, message="nothing left to run")
    assert [len(records(n)) for n in ("a", "b", "c")] == [1, 1, 1], (landed, read_records(stack.record_dir))
    assert records("b")[0].start >= records("a")[0].start + SLEEP
    assert records("c")[0].start > killed_at
