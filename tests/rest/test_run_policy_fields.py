"""Run-policy fields over HTTP (issue #17): optional, validated with a 400 naming the field, stored as
extra keys only when set (the original's JSON otherwise), and changed or cleared by an update."""

import json

import pytest
import requests

from elasticjob_cloud.core import paths
from tests.support import FOO_APP, FOO_JOB


@pytest.fixture
def seeded(api):
    assert requests.post(api.base_url + "/api/app", json=FOO_APP, timeout=10).status_code == 204
    return api


def stored(api, name):
    data, _ = api.registry.tree.get(paths.job(name))
    return json.loads(data)


@pytest.mark.parametrize(
    "field, value",
    [
        ("priority", "high"),
        ("priority", 1.5),
        ("priority", True),
        ("priority", 10**7),
        ("startingDeadlineSeconds", 0),
        ("startingDeadlineSeconds", -5),
        ("startingDeadlineSeconds", "soon"),
        ("startingDeadlineSeconds", 10**9),
        ("timeLimitSeconds", 0),
        ("timeLimitSeconds", 2.5),
        ("concurrencyPolicy", "SOMETIMES"),
        ("concurrencyPolicy", "forbid"),
        ("concurrencyPolicy", 1),
    ],
)
def test_a_bad_policy_value_is_a_400_naming_it_and_stores_nothing(seeded, field, value):
    body = {**FOO_JOB, field: value}
    response = requests.post(seeded.base_url + "/api/job/register", json=body, timeout=10)
    assert response.status_code == 400, response.text
    assert field in response.json()["errors"] and field in response.json()["message"]
    assert requests.get(seeded.base_url + "/api/job/jobs", timeout=10).json() == []


def test_without_policies_the_stored_json_is_the_originals(seeded):
    assert requests.post(seeded.base_url + "/api/job/register", json=FOO_JOB, timeout=10).status_code == 204
    record = stored(seeded, "foo_job")
    assert not {"priority", "startingDeadlineSeconds", "timeLimitSeconds", "concurrencyPolicy"} & set(record)
    shown = requests.get(seeded.base_url + "/api/job/jobs/foo_job", timeout=10).json()
    assert "priority" not in shown


def test_policies_are_stored_shown_updated_and_cleared(seeded):
    body = {
        **FOO_JOB,
        "priority": 7,
        "startingDeadlineSeconds": 30,
        "timeLimitSeconds": 600,
        "concurrencyPolicy": "REPLACE",
    }
    assert requests.post(seeded.base_url + "/api/job/register", json=body, timeout=10).status_code == 204
    record = stored(seeded, "foo_job")
    assert (record["priority"], record["startingDeadlineSeconds"]) == (7, 30)
    assert (record["timeLimitSeconds"], record["concurrencyPolicy"]) == (600, "REPLACE")
    assert record["jobClass"] == FOO_JOB["jobClass"]  # the original's keys are all still there
    update = {"jobName": "foo_job", "priority": -3, "startingDeadlineSeconds": None}
    assert requests.put(seeded.base_url + "/api/job/update", json=update, timeout=10).status_code == 204
    shown = requests.get(seeded.base_url + "/api/job/jobs/foo_job", timeout=10).json()
    assert shown["priority"] == -3 and "startingDeadlineSeconds" not in shown
    bad = {"jobName": "foo_job", "priority": "x"}
    assert requests.put(seeded.base_url + "/api/job/update", json=bad, timeout=10).status_code == 400
    assert stored(seeded, "foo_job")["priority"] == -3


def test_allow_is_stored_for_a_transient_job_and_refused_for_a_daemon_job(seeded):
    body = {**FOO_JOB, "concurrencyPolicy": "ALLOW"}
    assert requests.post(seeded.base_url + "/api/job/register", json=body, timeout=10).status_code == 204
    assert stored(seeded, "foo_job")["concurrencyPolicy"] == "ALLOW"
    daemon = {**FOO_JOB, "jobName": "daemon_job", "jobExecutionType": "DAEMON", "concurrencyPolicy": "ALLOW"}
    response = requests.post(seeded.base_url + "/api/job/register", json=daemon, timeout=10)
    assert response.status_code == 400, response.text
    assert "concurrencyPolicy" in response.json()["errors"] and "DAEMON" in response.text
    update = {"jobName": "foo_job", "jobExecutionType": "DAEMON"}  # ALLOW is stored: the merge breaks it
    response = requests.put(seeded.base_url + "/api/job/update", json=update, timeout=10)
    assert response.status_code == 409, response.text
    assert "concurrencyPolicy" in response.json()["errors"]
    assert stored(seeded, "foo_job")["jobExecutionType"] == "TRANSIENT"
    assert [j["jobName"] for j in requests.get(seeded.base_url + "/api/job/jobs", timeout=10).json()] == [
        "foo_job"
    ]


def test_the_openapi_document_states_the_policy_fields(seeded):
    job = requests.get(seeded.base_url + "/api/openapi.json", timeout=10).json()["components"]["schemas"][
        "Job"
    ]
    assert job["properties"]["startingDeadlineSeconds"]["minimum"] == 1
    assert "priority" in job["properties"]
    assert job["properties"]["concurrencyPolicy"]["enum"] == ["FORBID", "REPLACE", "ALLOW", None]


@pytest.mark.parametrize(
    "retry, key",
    [
        ({"maxRetries": 0}, "retry.maxRetries"),
        ({"initialBackoffSeconds": 5}, "retry.maxRetries"),
        ({"maxRetries": 2, "initialBackoffSeconds": 10, "maxBackoffSeconds": 5}, "retry.maxBackoffSeconds"),
        ({"maxRetries": 2, "initialBackoffSeconds": -1}, "retry.initialBackoffSeconds"),
        (3, "retry"),
    ],
)
def test_a_bad_retry_is_a_400_naming_its_field(seeded, retry, key):
    response = requests.post(
        seeded.base_url + "/api/job/register", json={**FOO_JOB, "retry": retry}, timeout=10
    )
    assert response.status_code == 400, response.text
    assert key in response.json()["errors"], response.json()
    assert requests.get(seeded.base_url + "/api/job/jobs", timeout=10).json() == []


def test_a_retry_is_stored_with_its_defaults(seeded):
    body = {**FOO_JOB, "retry": {"maxRetries": 3}}
    assert requests.post(seeded.base_url + "/api/job/register", json=body, timeout=10).status_code == 204
    assert stored(seeded, "foo_job")["retry"] == {
        "maxRetries": 3,
        "initialBackoffSeconds": 10.0,
        "maxBackoffSeconds": 360.0,
    }


def test_an_update_with_an_incomplete_retry_is_a_400_and_a_partial_one_gets_the_defaults(seeded):
    url = seeded.base_url
    assert requests.post(url + "/api/job/register", json=FOO_JOB, timeout=10).status_code == 204
    response = requests.put(url + "/api/job/update", json={"jobName": "foo_job", "retry": {}}, timeout=10)
    assert response.status_code == 400 and "retry.maxRetries" in response.json()["errors"], response.text
    given = {"jobName": "foo_job", "retry": {"maxRetries": 2}}
    assert requests.put(url + "/api/job/update", json=given, timeout=10).status_code == 204
    assert stored(seeded, "foo_job")["retry"] == {
        "maxRetries": 2,
        "initialBackoffSeconds": 10.0,
        "maxBackoffSeconds": 360.0,
    }
