"""3.x bodies registered and run on a live standalone stack; ``idle`` of a DAEMON task between runs."""

from __future__ import annotations

import pytest
import requests

from tests.scheduler.schedkit import APP, HELLO, app_body, read_records
from tests.support import wait_until

pytestmark = pytest.mark.slow


def pojo(name: str, **fields) -> dict:
    """A 3.x CloudJobConfigurationPOJO body, as 3.x's console and clients send it."""
    return {
        "appName": APP,
        "cpuCount": 0.1,
        "memoryMB": 32.0,
        "jobExecutionType": "TRANSIENT",
        "jobName": name,
        "cron": "0 0 0 1 1 ? 2099",
        "shardingTotalCount": 2,
        "shardingItemParameters": "",
        "jobParameter": "",
        "monitorExecution": True,
        "failover": False,
        "misfire": True,
        "maxTimeDiffSeconds": -1,
        "reconcileIntervalMinutes": 10,
        "description": "",
        "props": {},
        "disabled": False,
        "overwrite": False,
        **fields,
    }


def test_3x_script_and_daemon_jobs_run(live, packed_app, record_dir):
    assert requests.post(f"{live}/api/app", json=app_body(packed_app), timeout=10).status_code == 204
    script = pojo("script3", props={"script.command.line": "bin/demo.sh"})
    assert requests.post(f"{live}/api/job/register", json=script, timeout=10).status_code == 204
    assert requests.post(f"{live}/api/job/trigger", data="script3", timeout=10).status_code == 204

    def script_ran():
        return sorted(r.item for r in read_records(record_dir) if r.kind == "script" and r.job == "script3")

    wait_until(lambda: script_ran() == [0, 1], 30, 0.2, "both shards of the 3.x script job")

    daemon = pojo(
        "daemon3",
        jobClass=HELLO,
        jobExecutionType="DAEMON",
        cron="0/2 * * * * ?",
        shardingTotalCount=1,
        jobParameter="sleep=1",
    )
    assert requests.post(f"{live}/api/job/register", json=daemon, timeout=10).status_code == 204
    seen: set[bool] = set()

    def both_states():
        tasks = [
            t
            for t in requests.get(f"{live}/api/job/tasks/running", timeout=5).json()
            if t["metaInfo"]["jobName"] == "daemon3"
        ]
        seen.update(t["idle"] for t in tasks)
        return seen == {True, False}

    # busy for 1 s of every 2: idle between runs, not idle during one
    wait_until(both_states, 30, 0.1, "the daemon task reported idle between runs and busy in one")
    assert any(r.job == "daemon3" for r in read_records(record_dir))
    transient = [
        t
        for t in requests.get(f"{live}/api/job/tasks/running", timeout=5).json()
        if t["metaInfo"]["jobName"] != "daemon3"
    ]
    assert all(t["idle"] is False for t in transient)
