"""A run no agent can hold, end to end (issue #12): a live standalone stack whose local Mesos agents
are small, a job larger than any of them, then a larger agent added through the master's faults API.

Real parts throughout: ZooKeeper, the local Mesos (its ``/master/slaves`` answers the totals), the
pymesos drivers, the REST API and an executor subprocess for the run once it launches.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from elasticjob_cloud.mesos.node import SchedulerNode
from tests.scheduler.schedkit import CLUSTER_OPTIONS, FAR_FUTURE, app_body, job_body, read_records
from tests.support import wait_until

pytestmark = pytest.mark.slow

SMALL_AGENT = "cpus:1;mem:1024;disk:1024;ports:[31000-31100]"
LARGE_AGENT = "cpus:4;mem:4096;disk:1024;ports:[31200-31300]"


@pytest.fixture
def small_stack(zk_hosts: str, tmp_path: Path, packed_app: Path, record_dir: Path) -> Iterator[Any]:
    """A standalone stack (local Mesos with two 1-cpu agents, scheduler, REST API) in this process."""
    from elasticjob_cloud.bootstrap import start_standalone
    from elasticjob_cloud.settings import Settings

    settings = Settings(zk_servers=zk_hosts, http_port=0, hostname="127.0.0.1", time_zone="UTC")
    made = start_standalone(
        settings, agents=2, work_dir=str(tmp_path / "small"), resources=SMALL_AGENT, **CLUSTER_OPTIONS
    )
    made.url = f"http://127.0.0.1:{made.rest.port}"
    try:
        wait_until(lambda: get(made.url, "/health")["role"] == "leader", 30, 0.1)
        yield made
    finally:
        made.stop()


def get(url: str, path: str) -> Any:
    response = requests.get(url + path, timeout=10)
    assert response.status_code == 200, response.text
    return response.json() if "json" in response.headers["Content-Type"] else response.text


def gauge(url: str, name: str) -> float | None:
    for line in get(url, "/metrics").splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return None


def warnings_of(caplog: pytest.LogCaptureFixture, job: str) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.levelno == logging.WARNING and r.getMessage().startswith(f"job {job} is unschedulable")
    ]


def test_a_job_larger_than_every_agent_is_reported_once_and_runs_when_a_larger_agent_joins(
    small_stack, packed_app, record_dir, caplog
) -> None:
    caplog.set_level(logging.INFO, logger="elasticjob_cloud.mesos.agent_fit")
    url = small_stack.url
    post = requests.post
    assert post(url + "/api/app", json=app_body(packed_app), timeout=10).status_code == 204
    # registration is accepted: agents may join later
    body = job_body("huge", cron=FAR_FUTURE, cpuCount=2, shardingTotalCount=1)
    assert post(url + "/api/job/register", json=body, timeout=10).status_code == 204
    assert (
        post(url + "/api/job/register", json=job_body("small", cron=FAR_FUTURE), timeout=10).status_code
        == 204
    )
    for name in ("huge", "huge", "small"):
        assert post(url + "/api/job/trigger", data=name, timeout=10).status_code == 204

    wait_until(lambda: "unschedulable" in (ready_entry(url, "huge") or {}), 20, message="the mark in the API")
    wait_until(lambda: len(read_records(record_dir)) >= 1, 30, message="the small job to run beside it")
    entry = ready_entry(url, "huge")
    assert entry["times"] == "2"
    assert "no agent can hold one shard" in entry["unschedulable"]
    assert "the largest of 2 agent(s) holds 1 cpus and 1024 MB" in entry["unschedulable"]
    [listed] = get(url, "/api/job/tasks/unschedulable")
    assert (listed["jobName"], listed["cpuCount"], listed["executorCpuCount"]) == ("huge", 2.0, 0.1)
    assert (listed["largestAgentCpus"], listed["agents"]) == (1.0, 2)
    assert get(url, "/health")["mesos"]["unschedulableJobs"] == 1
    assert gauge(url, "elasticjob_cloud_unschedulable_jobs") == 1.0
    assert {r.job for r in read_records(record_dir)} == {"small"}
    standby = SchedulerNode(small_stack.settings, small_stack.registry, 0)  # no engine: reads ZooKeeper
    assert standby.unschedulable() == {"huge": listed}

    master = "http://" + small_stack.cluster.master_url.removeprefix("http://")
    added = post(f"{master}/faults/add_agent", json={"resources": LARGE_AGENT}, timeout=10)
    assert added.status_code == 200, added.text

    wait_until(
        lambda: any(r.job == "huge" for r in read_records(record_dir)), 60, message="the huge job to run"
    )
    wait_until(lambda: get(url, "/api/job/tasks/unschedulable") == [], 20, message="the mark to go")
    assert "unschedulable" not in (ready_entry(url, "huge") or {})
    assert get(url, "/health")["mesos"]["unschedulableJobs"] == 0
    assert gauge(url, "elasticjob_cloud_unschedulable_jobs") == 0.0
    assert standby.unschedulable() == {}
    # many rounds went by between the mark and the launch: one warning in all
    assert len(warnings_of(caplog, "huge")) == 1
    assert warnings_of(caplog, "small") == []
    assert any(r.getMessage() == "job huge is no longer unschedulable" for r in caplog.records)


def test_the_master_refuses_an_agent_with_bad_resources(small_stack) -> None:
    master = "http://" + small_stack.cluster.master_url.removeprefix("http://")
    before = len(get(master, "/master/slaves")["slaves"])

    answer = requests.post(f"{master}/faults/add_agent", json={"resources": "cpus:lots"}, timeout=10)

    assert answer.status_code == 400 and "lots" in answer.text
    assert len(get(master, "/master/slaves")["slaves"]) == before


def ready_entry(url: str, job: str) -> dict[str, str] | None:
    return next((e for e in get(url, "/api/job/tasks/ready") if e["jobName"] == job), None)
