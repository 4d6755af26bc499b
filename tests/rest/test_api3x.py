"""The 3.x API: ``CloudJobConfigurationPOJO`` bodies on ``/api/job/register`` and ``/update``."""

from __future__ import annotations

import requests

from tests.support import FOO_APP, POJO3_BODY

POJO = {**POJO3_BODY, "appName": "foo_app"}


def post(api, path: str, body) -> requests.Response:
    return requests.post(api.base_url + path, json=body, timeout=10)


def job(api, name: str) -> dict:
    return requests.get(f"{api.base_url}/api/job/jobs/{name}", timeout=10).json()


def test_3x_bodies_register_and_update(api):
    assert post(api, "/api/app", FOO_APP).status_code == 204
    script = {**POJO, "props": {"script.command.line": "bin/run.sh"}}
    assert post(api, "/api/job/register", script).status_code == 204
    stored = job(api, "test_job")
    assert (stored["jobType"], stored["scriptCommandLine"], stored["shardingTotalCount"]) == (
        "SCRIPT",
        "bin/run.sh",
        10,
    )

    # a partial 3.x update: only what it names changes; the job stays a script job
    update = {"jobName": "test_job", "props": {"script.command.line": "bin/other.sh"}, "disabled": True}
    assert requests.put(f"{api.base_url}/api/job/update", json=update, timeout=10).status_code == 204
    stored = job(api, "test_job")
    assert (stored["scriptCommandLine"], stored["cron"]) == ("bin/other.sh", "0/30 * * * * ?")
    assert requests.get(f"{api.base_url}/api/job/test_job/disable", timeout=10).json() is True

    # overwrite: a register of an existing job replaces it (3.x's registry semantics)
    again = {**script, "shardingTotalCount": 3, "overwrite": True}
    assert post(api, "/api/job/register", again).status_code == 204
    assert job(api, "test_job")["shardingTotalCount"] == 3
    assert requests.get(f"{api.base_url}/api/job/test_job/disable", timeout=10).json() is False
    assert post(api, "/api/job/register", {**again, "overwrite": False}).status_code == 409

    # disabled: registered with its disable mark in the same write
    simple = {**POJO, "jobName": "class_job", "jobClass": "a.B", "disabled": True}
    assert post(api, "/api/job/register", simple).status_code == 204
    assert job(api, "class_job")["jobType"] == "SIMPLE"
    assert requests.get(f"{api.base_url}/api/job/disabled", timeout=10).json() == ["class_job"]


def test_what_cannot_be_honoured_is_a_400_naming_it(api):
    assert post(api, "/api/app", FOO_APP).status_code == 204
    answer = post(api, "/api/job/register", POJO)
    assert answer.status_code == 400
    assert "jobClass" in answer.json()["errors"] and "3.x" in answer.json()["message"]
    refused = {
        **POJO,
        "jobClass": "a.B",
        "jobErrorHandlerType": "DINGTALK",
        "jobListenerTypes": ["LOG"],
        "props": {"script.command.line": "x", "custom": "1"},
    }
    answer = post(api, "/api/job/register", refused)
    assert answer.status_code == 400
    assert set(answer.json()["errors"]) == {"jobErrorHandlerType", "jobListenerTypes", "props"}
    assert "cannot be honoured" in answer.json()["message"]
    assert requests.get(f"{api.base_url}/api/job/jobs", timeout=10).json() == []  # nothing stored
