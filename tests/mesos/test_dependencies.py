"""The engine and job dependencies (issue #17), one event at a time: the outcomes of an upstream's
tasks are written with their ends, its run completes when no shard will run again, and a new leader
completes what its predecessor left, once."""

from __future__ import annotations

from typing import Any

import pytest

from elasticjob_cloud.core import paths
from elasticjob_cloud.core.models import TaskId
from elasticjob_cloud.core.taskdata import JOB_FAILURE_PREFIX
from tests.mesos.test_engine import APP, Harness, job_body


@pytest.fixture
def h() -> Harness:
    harness = Harness()
    harness.lifecycle.register_app(APP)
    harness.lifecycle.register_job(job_body("a", shards=2))
    body = job_body("b", shards=1, dependsOn=["a"])
    del body["cron"]
    harness.lifecycle.register_job(body)
    harness.subscribe()
    return harness


def launched_of(h: Harness, job: str) -> list[str]:
    ids = [t["task_id"]["value"] for t in h.driver.launched()]
    return [i for i in ids if TaskId.parse(i).job_name == job]


def run(h: Harness, job: str, states: dict[int, str], **more: Any) -> list[str]:
    """Offer, then end every launched task of ``job`` not ended yet as ``states`` says (default FINISHED)."""
    h.give_offers("S0")
    tasks = [t for t in launched_of(h, job) if t in h.running_ids()]
    for task in tasks:
        item = TaskId.parse(task).sharding_item
        state = states.get(item, "TASK_FINISHED")
        message = f"{JOB_FAILURE_PREFIX}boom" if state == "TASK_FAILED" else None
        h.status(task, state, message)
    return tasks


def test_a_successful_upstream_run_queues_one_downstream_run_which_then_launches(h):
    h.lifecycle.trigger("a")
    run(h, "a", {})
    assert h.registry.tree.children(paths.run_outcomes_job("a")) == []  # consumed
    assert h.engine.stats.counters["dependency_runs_queued"] == 1
    h.give_offers("S1")
    assert len(launched_of(h, "b")) == 1
    assert h.registry.ready.counts() == {}


def test_nothing_is_queued_before_every_shard_ended(h):
    h.lifecycle.trigger("a")
    h.give_offers("S0")
    first = launched_of(h, "a")[0]
    h.status(first, "TASK_FINISHED")
    assert h.registry.ready.counts() == {}
    assert len(h.registry.tree.children(paths.run_outcomes_job("a"))) == 1


def test_a_failed_upstream_shard_queues_nothing_for_all_succeeded(h):
    h.lifecycle.trigger("a")
    run(h, "a", {1: "TASK_FAILED"})
    assert h.registry.ready.counts() == {}
    assert h.registry.dependencies.edges_of("b")["edges"]["a"]["state"] == "FAILED"
    assert h.engine.stats.counters["dependency_runs_completed"] == 1


def test_a_shard_retried_then_succeeding_completes_the_run_once(h):
    h.lifecycle.update_job({"jobName": "a", "retry": {"maxRetries": 1, "initialBackoffSeconds": 0}})
    h.lifecycle.trigger("a")
    run(h, "a", {1: "TASK_FAILED"})
    assert h.registry.ready.counts() == {}  # the retry is queued: the run is not done
    assert h.engine.stats.counters["dependency_runs_completed"] == 0
    h.now += 1
    run(h, "a", {})  # the retry succeeds
    assert h.registry.ready.counts() == {"b": 1}
    assert h.engine.stats.counters["dependency_runs_completed"] == 1


def test_a_lost_shard_failed_over_is_not_done_until_it_ran_again(h):
    h.lifecycle.trigger("a")
    run(h, "a", {0: "TASK_LOST"})
    assert h.registry.ready.counts() == {}
    run(h, "a", {})
    assert h.registry.ready.counts() == {"b": 1}


def test_a_new_leader_completes_a_run_its_predecessor_recorded_but_did_not_complete(h, monkeypatch):
    monkeypatch.setattr(h.engine.dependencies, "after_flush", lambda: None)  # dies before completing
    h.lifecycle.trigger("a")
    run(h, "a", {})
    assert h.registry.ready.counts() == {} and h.registry.running.entries() == []
    assert len(h.registry.tree.children(paths.run_outcomes_job("a"))) == 2
    successor = Harness(h.registry)
    successor.subscribe()
    assert h.registry.ready.counts() == {"b": 1}
    third = Harness(h.registry)  # and one more leader change: nothing is queued twice
    third.subscribe()
    assert h.registry.ready.counts() == {"b": 1}
