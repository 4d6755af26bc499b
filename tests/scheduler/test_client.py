"""The command-line client end to end against a live standalone stack (real HTTP, real jobs)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import requests

from elasticjob_cloud.bootstrap import start_api
from elasticjob_cloud.cli import main
from elasticjob_cloud.settings import Settings
from tests.scheduler.schedkit import APP, HELLO, app_body
from tests.support import wait_until

pytestmark = pytest.mark.slow

JOB_YAML = f"""\
# a job as an operator keeps it in version control
jobName: cli_job
appName: {APP}
jobClass: {HELLO}
jobType: SIMPLE
jobExecutionType: TRANSIENT
cron: "0 0 0 1 1 ? 2099"
shardingTotalCount: 2
jobParameter: sleep=2
cpuCount: 0.1
memoryMB: 32
failover: true
misfire: true
"""


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_register_from_yaml_trigger_and_watch_the_run(live, packed_app, tmp_path, capsys):
    api = ["--api", live]
    app_file = tmp_path / "app.json"
    app_file.write_text(json.dumps(app_body(packed_app)))
    job_file = tmp_path / "job.yaml"
    job_file.write_text(JOB_YAML)

    assert run(capsys, "app", "register", *api, "-f", str(app_file))[:2] == (0, f"app {APP} registered\n")
    assert run(capsys, "job", "register", *api, "-f", str(job_file))[0] == 0
    code, out, _ = run(capsys, "job", "list", *api, "--json")
    assert code == 0
    listed = json.loads(out)
    assert [job["jobName"] for job in listed] == ["cli_job"]
    assert listed[0]["jobParameter"] == "sleep=2" and listed[0]["shardingTotalCount"] == 2
    code, out, _ = run(capsys, "job", "list", *api)
    header, row = out.splitlines()
    assert header.split() == ["NAME", "APP", "TYPE", "EXECUTION", "CRON", "SHARDS", "CPU", "MEM"]
    assert row.split()[:4] == ["cli_job", APP, "SIMPLE", "TRANSIENT"]

    assert run(capsys, "job", "trigger", *api, "cli_job")[:2] == (0, "job cli_job triggered\n")

    def running_shards():
        code, out, _ = run(capsys, "task", "running", *api, "--job", "cli_job", "--json")
        assert code == 0
        return sorted(item for task in json.loads(out) for item in task["metaInfo"]["shardingItems"])

    wait_until(lambda: running_shards() == [0, 1], 30, 0.2, "both shards in `task running`")
    code, out, _ = run(capsys, "task", "running", *api)
    assert out.splitlines()[0].split() == ["JOB", "ITEMS", "TYPE", "IDLE", "AGENT", "TASK"]
    assert sum(line.startswith("cli_job ") for line in out.splitlines()) == 2
    wait_until(lambda: running_shards() == [], 30, 0.2, "the run to finish")

    # the run in the event trace: the original's search, and the job's own executions
    def history():
        code, out, _ = run(capsys, "history", "executions", *api, "--job", "cli_job", "--success", "--json")
        assert code == 0
        found = json.loads(out)
        return found if found["total"] == 2 else None

    rows = wait_until(history, 20, 0.2, "both shards' executions in the trace")["rows"]
    assert sorted(row["shardingItem"] for row in rows) == [0, 1]
    assert all(row["success"] and row["jobName"] == "cli_job" for row in rows)
    code, out, _ = run(capsys, "job", "executions", *api, "cli_job")
    lines = out.splitlines()
    assert code == 0 and lines[0].split()[:4] == ["START", "COMPLETE", "MS", "ITEM"]
    assert len(lines) == 4 and lines[-1].startswith("(duration of 2 completed: p50 ")
    code, out, _ = run(capsys, "job", "executions", *api, "cli_job", "--json")
    assert all(run["durationMs"] >= 2000 for run in json.loads(out)["executions"])  # each shard slept 2 s

    # the job's own flags and schedule
    assert run(capsys, "job", "disable", *api, "cli_job")[0] == 0
    code, out, _ = run(capsys, "job", "show", *api, "cli_job", "--json")
    assert json.loads(out)["disabled"] is True
    assert run(capsys, "job", "enable", *api, "cli_job")[0] == 0
    code, out, _ = run(
        capsys,
        "job",
        "cron",
        *api,
        "--expression",
        "0 0 12 * * ?",
        "--count",
        "2",
        "--after",
        "2030-01-01T00:00:00Z",
        "--time-zone",
        "UTC",
    )
    assert out.splitlines() == ["2030-01-01T12:00:00+00:00", "2030-01-02T12:00:00+00:00"]
    code, out, _ = run(capsys, "job", "update", *api, "cli_job", "--shards", "3", "--json")
    assert code == 0 and json.loads(out)["ok"] is True
    assert requests.get(f"{live}/api/job/jobs/cli_job", timeout=5).json()["shardingTotalCount"] == 3

    code, out, _ = run(capsys, "job", "deregister", *api, "cli_job")
    assert code == 0
    assert requests.get(f"{live}/api/job/jobs", timeout=5).json() == []


def test_a_400_exits_non_zero_with_the_field_named(live, packed_app):
    """As a user runs it: a separate process, its exit status and its standard error."""
    requests.post(f"{live}/api/app", json=app_body(packed_app), timeout=10).raise_for_status()
    command = [sys.executable, "-m", "elasticjob_cloud.cli", "job", "register", "--api", live]
    flags = ["--name", "bad", "--app", APP, "--type", "SIMPLE", "--execution-type", "TRANSIENT"]
    flags += [
        "--job-class",
        HELLO,
        "--cron",
        "0/5 * * * * ?",
        "--cpu",
        "0.1",
        "--memory",
        "32",
        "--shards",
        "0",
    ]
    done = subprocess.run(command + flags, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.startswith("elasticjob-cloud: 400 ")
    assert "shardingTotalCount" in done.stderr
    missing = subprocess.run(
        [sys.executable, "-m", "elasticjob_cloud.cli", "job", "show", "--api", live, "nope"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert missing.returncode == 1 and "404" in missing.stderr and "nope" in missing.stderr


def test_a_standby_redirects_the_client_to_the_leader(live, zk_hosts, capsys):
    standby = start_api(Settings(zk_servers=zk_hosts, http_port=0, hostname="127.0.0.1"), host="127.0.0.1")
    try:
        url = f"http://127.0.0.1:{standby.rest.port}"
        wait_until(lambda: requests.get(url + "/health", timeout=5).json()["role"] == "standby", 10)
        direct = requests.post(url + "/api/operate/reconcile/implicit", allow_redirects=False, timeout=5)
        assert direct.status_code == 307 and direct.headers["Location"].startswith(live)
        code, out, err = run(capsys, "operate", "reconcile", "--implicit", "--api", url)
        assert (code, out, err) == (0, "implicit reconciliation requested\n", "")
        # the leader took it: a second one within 10 s is refused there with 429
        code, _, err = run(capsys, "operate", "reconcile", "--api", url)
        assert code == 1 and err.startswith("elasticjob-cloud: 429 ")
    finally:
        standby.stop()
