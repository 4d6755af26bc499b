"""``GET /metrics`` of a live standalone stack: scrape, run jobs, scrape again, compare.

Real parts throughout: ZooKeeper, the local Mesos, the pymesos drivers and executor subprocesses.
One job fires once from a one-instant cron (a fire, a latency observation, two finished shards);
another is triggered (no fire) and has one shard that fails.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from tests.scheduler.schedkit import app_body, job_body
from tests.support import wait_until

pytestmark = pytest.mark.slow


def scrape(url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = requests.get(url + "/metrics", timeout=10)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def moved(before, after, name: str, **labels: str) -> float:
    return value(after, name, **labels) - value(before, name, **labels)


def one_instant_cron(at: datetime) -> str:
    return f"{at.second} {at.minute} {at.hour} {at.day} {at.month} ? {at.year}"


def test_metrics_move_by_what_happened(live, packed_app):
    url = live
    assert requests.post(url + "/api/app", json=app_body(packed_app), timeout=10).status_code == 204
    before = scrape(url)
    assert value(before, "elasticjob_cloud_leader") == 1.0
    assert value(before, "elasticjob_cloud_zookeeper_connected") == 1.0

    fire_at = datetime.fromtimestamp(int(time.time()) + 4, UTC)
    cron_job = job_body("metrics_cron", cron=one_instant_cron(fire_at), shardingTotalCount=2)
    assert requests.post(url + "/api/job/register", json=cron_job, timeout=10).status_code == 204
    failing = job_body(
        "metrics_fail",
        cron="0 0 0 1 1 ? 2099",
        shardingTotalCount=2,
        shardingItemParameters="0=ok,1=fail",
        failover=False,
    )
    assert requests.post(url + "/api/job/register", json=failing, timeout=10).status_code == 204
    assert requests.post(url + "/api/job/trigger", data="metrics_fail", timeout=10).status_code == 204

    def all_final():
        samples = scrape(url)
        done = sum(
            moved(before, samples, "elasticjob_cloud_job_tasks_terminated_total", job=job, state=state)
            for job in ("metrics_cron", "metrics_fail")
            for state in ("TASK_FINISHED", "TASK_FAILED")
        )
        return samples if done >= 4 and samples.get(("elasticjob_cloud_running_tasks", ())) == 0 else None

    after = wait_until(all_final, 60, 0.2, "both jobs' four tasks to end")
    assert moved(before, after, "elasticjob_cloud_fires_total") == 1.0
    assert moved(before, after, "elasticjob_cloud_fires_missed_total") == 0.0
    assert moved(before, after, "elasticjob_cloud_tasks_launched_total", type="READY") == 4.0
    assert moved(before, after, "elasticjob_cloud_tasks_launched_total", type="FAILOVER") == 0.0
    assert moved(before, after, "elasticjob_cloud_fire_to_launch_seconds_count") == 1.0
    latency = moved(before, after, "elasticjob_cloud_fire_to_launch_seconds_sum")
    assert 0.0 <= latency < 5.0
    terminated = "elasticjob_cloud_job_tasks_terminated_total"
    assert moved(before, after, terminated, job="metrics_cron", state="TASK_FINISHED") == 2.0
    assert moved(before, after, terminated, job="metrics_fail", state="TASK_FINISHED") == 1.0
    assert moved(before, after, terminated, job="metrics_fail", state="TASK_FAILED") == 1.0
    states = "elasticjob_cloud_task_status_updates_total"
    assert moved(before, after, states, state="TASK_FINISHED") == 3.0
    assert moved(before, after, states, state="TASK_FAILED") == 1.0
    assert moved(before, after, "elasticjob_cloud_failovers_total") == 0.0
    assert moved(before, after, "elasticjob_cloud_offers_received_total") >= 1.0
    assert value(after, "elasticjob_cloud_ready_runs") == 0.0
    assert value(after, "elasticjob_cloud_failover_shards") == 0.0
    assert ("elasticjob_cloud_trace_backlog", ()) in after  # standalone keeps an event trace
    zk_ops = "elasticjob_cloud_zookeeper_operation_seconds_count"
    assert moved(before, after, zk_ops, operation="commit_many") >= 1.0


def test_metrics_are_served_without_a_scheduler(api):
    """An API-only instance: no leader, ZooKeeper connected, the queues readable."""
    samples = scrape(api.base_url)
    assert value(samples, "elasticjob_cloud_leader") == 0.0
    assert value(samples, "elasticjob_cloud_zookeeper_connected") == 1.0
    assert ("elasticjob_cloud_ready_runs", ()) in samples
    assert ("elasticjob_cloud_running_tasks", ()) not in samples
