import subprocess
import sys

import requests

from tests.support import FOO_APP, FOO_JOB


def test_preview_any_expression(api):
    response = requests.get(
        api.base_url + "/api/cron/preview",
        params={
            "cron": "0 30 9 ? * MON-FRI",
            "count": 3,
            "after": "2026-03-27T12:00:00",
            "timeZone": "America/New_York",
        },
        timeout=10,
    )
    assert response.status_code == 200
    assert response.json() == {
        "cron": "0 30 9 ? * MON-FRI",
        "timeZone": "America/New_York",
        "next": ["2026-03-30T09:30:00-04:00", "2026-03-31T09:30:00-04:00", "2026-04-01T09:30:00-04:00"],
    }


def test_preview_errors_name_the_parameter(api):
    for params, field in [
        ({}, "cron"),
        ({"cron": "0 0 12 * * 9"}, "cron"),
        ({"cron": "0 * * * * ?", "count": "many"}, "count"),
        ({"cron": "0 * * * * ?", "count": "0"}, "count"),
        ({"cron": "0 * * * * ?", "after": "yesterday"}, "after"),
        ({"cron": "0 * * * * ?", "timeZone": "Nowhere/Land"}, "timeZone"),
    ]:
        response = requests.get(api.base_url + "/api/cron/preview", params=params, timeout=10)
        assert response.status_code == 400, params
        assert field in response.json()["errors"], (params, response.json())


def test_job_next_fire_times_use_the_job_zone(api):
    requests.post(api.base_url + "/api/app", json=FOO_APP, timeout=10)
    job = {**FOO_JOB, "cron": "0 0 2 * * ?", "timeZone": "Europe/Berlin"}
    assert requests.post(api.base_url + "/api/job/register", json=job, timeout=10).status_code == 204
    response = requests.get(
        api.base_url + "/api/job/jobs/foo_job/next-fire-times",
        params={"count": 2, "after": "2026-03-28T12:00:00+01:00"},
        timeout=10,
    )
    # 2026-03-29 02:00 does not exist in Berlin: it fires once at the first instant after the gap.
    assert response.json()["next"] == ["2026-03-29T03:00:00+02:00", "2026-03-30T02:00:00+02:00"]
    assert requests.get(api.base_url + "/api/job/jobs/ghost/next-fire-times", timeout=10).status_code == 404


def test_cli_preview_and_invalid_expression():
    ok = subprocess.run(
        [
            sys.executable,
            "-m",
            "elasticjob_cloud.cli",
            "cron",
            "0/20 * * * * ?",
            "--count",
            "3",
            "--after",
            "2026-01-01T00:00:00+00:00",
            "--time-zone",
            "UTC",
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert ok.returncode == 0
    assert ok.stdout.split() == [
        "2026-01-01T00:00:20+00:00",
        "2026-01-01T00:00:40+00:00",
        "2026-01-01T00:01:00+00:00",
    ]
    bad = subprocess.run(
        [sys.executable, "-m", "elasticjob_cloud.cli", "cron", "0 0 12 * * 9"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert bad.returncode == 2
    assert "day-of-week" in bad.stderr
