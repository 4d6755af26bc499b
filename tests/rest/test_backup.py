"""``elasticjob-cloud export`` / ``import`` against a live API over a real ZooKeeper chroot."""

from __future__ import annotations

import json

import requests

from elasticjob_cloud.cli import main
from tests.support import FOO_APP, FOO_JOB

BAR_APP = {**FOO_APP, "appName": "bar_app", "appCacheEnable": False, "memoryMB": 256.0}
JOBS = [
    {**FOO_JOB, "jobName": "a_job", "shardingItemParameters": "0=x,1=y", "description": "first"},
    {**FOO_JOB, "jobName": "b_job", "jobType": "SCRIPT", "jobClass": "", "scriptCommandLine": "bin/run.sh"},
    {
        **FOO_JOB,
        "jobName": "c_job",
        "appName": "bar_app",
        "jobExecutionType": "DAEMON",
        "timeZone": "Asia/Shanghai",
    },
    {**FOO_JOB, "jobName": "d_job", "appName": "bar_app", "jobType": "DATAFLOW", "streamingProcess": True},
]


def populate(url: str) -> None:
    for app in (FOO_APP, BAR_APP):
        assert requests.post(f"{url}/api/app", json=app, timeout=10).status_code == 204
    for job in JOBS:
        assert requests.post(f"{url}/api/job/register", json=job, timeout=10).status_code == 204, job
    for path in ("/api/job/a_job/disable", "/api/app/bar_app/disable", "/api/job/d_job/disable"):
        assert requests.post(url + path, timeout=10).status_code == 204


def export(url: str, capsys) -> dict:
    assert main(["export", "--api", url]) == 0
    return json.loads(capsys.readouterr().out)


def test_export_wipe_import_gives_identical_state(api, capsys, tmp_path):
    url = api.base_url
    populate(url)
    before = export(url, capsys)
    assert [app["appName"] for app in before["apps"]] == ["bar_app", "foo_app"]
    assert {job["jobName"]: job["disabled"] for job in before["jobs"]} == {
        "a_job": True,
        "b_job": False,
        "c_job": False,  # disabled only through its app
        "d_job": True,
    }
    saved = tmp_path / "all.json"
    saved.write_text(json.dumps(before))

    for app in ("foo_app", "bar_app"):  # wipe: deleting an app deregisters its jobs
        assert requests.delete(f"{url}/api/app/{app}", timeout=10).status_code == 204
    assert export(url, capsys) == {"format": "elasticjob-cloud/1", "apps": [], "jobs": []}

    assert main(["import", "--api", url, str(saved), "--dry-run"]) == 0
    dry = capsys.readouterr().out
    assert "would create app foo_app" in dry and "would create job a_job: registered disabled" in dry
    assert "nothing was changed" in dry
    assert requests.get(f"{url}/api/app/list", timeout=10).json() == []

    assert main(["import", "--api", url, str(saved)]) == 0
    out = capsys.readouterr().out
    assert out.strip().endswith("change(s) made, 0 failed")
    assert export(url, capsys) == before

    # idempotent: a second run changes nothing
    assert main(["import", "--api", url, str(saved)]) == 0
    assert capsys.readouterr().out == "nothing to change\n"


def test_import_updates_only_what_differs(api, capsys, tmp_path):
    url = api.base_url
    populate(url)
    snapshot = export(url, capsys)
    snapshot["jobs"][1]["cron"] = "0 0 * * * ?"  # b_job
    snapshot["jobs"][0]["disabled"] = False  # a_job enabled
    snapshot["apps"][0]["disabled"] = False  # bar_app enabled
    saved = tmp_path / "changed.yaml"  # YAML is accepted too (JSON is YAML)
    saved.write_text(json.dumps(snapshot))
    assert main(["import", "--api", url, str(saved), "--dry-run"]) == 0
    planned = capsys.readouterr().out.splitlines()
    assert planned == [
        "would enable app bar_app",
        "would enable job a_job",
        "would update job b_job: cron '0/5 * * * * ?' → '0 0 * * * ?'",
        "3 change(s) planned; nothing was changed (--dry-run)",
    ]
    assert main(["import", "--api", url, str(saved)]) == 0
    capsys.readouterr()
    assert export(url, capsys) == snapshot


def test_a_snapshot_that_is_not_one_is_refused(api, capsys, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"apps": [{"appURL": "x"}]}')
    assert main(["import", "--api", api.base_url, str(bad)]) == 2
    assert "appName" in capsys.readouterr().err
    bad.write_text('{"format": "something-else", "apps": []}')
    assert main(["import", "--api", api.base_url, str(bad)]) == 2
    assert "unknown snapshot format" in capsys.readouterr().err


def test_jobs_with_dependencies_are_restored_upstreams_first(api, capsys, tmp_path):
    """``a_first`` depends on ``z_last``: in name order its registration would name a job not yet there."""
    url = api.base_url
    assert requests.post(f"{url}/api/app", json=FOO_APP, timeout=10).status_code == 204
    upstream = {**FOO_JOB, "jobName": "z_last"}
    downstream = {key: value for key, value in FOO_JOB.items() if key != "cron"}
    downstream.update(jobName="a_first", dependsOn=["z_last"])
    for job in (upstream, downstream):
        assert requests.post(f"{url}/api/job/register", json=job, timeout=10).status_code == 204
    before = export(url, capsys)
    saved = tmp_path / "deps.json"
    saved.write_text(json.dumps(before))
    assert requests.delete(f"{url}/api/app/{FOO_APP['appName']}", timeout=10).status_code == 204
    assert main(["import", "--api", url, str(saved)]) == 0
    assert capsys.readouterr().out.strip().endswith("change(s) made, 0 failed")
    assert export(url, capsys) == before
