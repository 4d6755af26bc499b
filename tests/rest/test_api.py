"""The REST API over real HTTP (waitress) and a real ZooKeeper."""

import pytest
import requests

from tests.support import FOO_APP, FOO_JOB, record_running


def call(api, method, path, json=None, data=None):
    return requests.request(method, api.base_url + path, json=json, data=data, timeout=10)


@pytest.fixture
def app_published(api):
    assert call(api, "POST", "/api/app", json=FOO_APP).status_code == 204
    return api


def test_app_lifecycle(api):
    assert call(api, "POST", "/api/app", json=FOO_APP).status_code == 204
    detail = call(api, "GET", "/api/app/foo_app")
    assert detail.status_code == 200
    assert list(detail.json()) == [
        "appName",
        "appURL",
        "bootstrapScript",
        "cpuCount",
        "memoryMB",
        "appCacheEnable",
        "eventTraceSamplingCount",
    ]
    conflict = call(api, "POST", "/api/app", json=FOO_APP)
    assert conflict.status_code == 409 and "already exists" in conflict.json()["message"]
    assert (
        call(api, "PUT", "/api/app", json={"appName": "foo_app", "appCacheEnable": False}).status_code == 204
    )
    after = call(api, "GET", "/api/app/foo_app").json()
    assert after == {**FOO_APP, "appCacheEnable": False}  # only the given field changed
    assert call(api, "GET", "/api/app/list").json() == [after]
    assert call(api, "DELETE", "/api/app/foo_app").status_code == 204
    assert call(api, "GET", "/api/app/foo_app").status_code == 404
    assert call(api, "DELETE", "/api/app/foo_app").status_code == 204


def test_app_disable_enable_both_forms(app_published):
    api = app_published
    assert call(api, "GET", "/api/app/foo_app/disable").json() is False
    assert call(api, "POST", "/api/app/foo_app/disable").status_code == 204
    assert call(api, "GET", "/api/app/foo_app/disable").json() is True
    assert call(api, "DELETE", "/api/app/foo_app/disable").status_code == 204
    assert call(api, "GET", "/api/app/foo_app/disable").json() is False
    call(api, "POST", "/api/app/foo_app/disable")
    assert call(api, "POST", "/api/app/foo_app/enable").status_code == 204
    assert call(api, "GET", "/api/app/foo_app/disable").json() is False


@pytest.mark.parametrize("method", ["GET", "POST", "DELETE"])
@pytest.mark.parametrize("kind", ["app", "job"])
def test_disable_of_unknown_is_404(api, method, kind):
    response = call(api, method, f"/api/{kind}/ghost/disable")
    assert response.status_code == 404
    assert "'ghost' not found" in response.json()["message"]


def test_job_lifecycle(app_published):
    api = app_published
    assert call(api, "POST", "/api/job/register", json=FOO_JOB).status_code == 204
    job = call(api, "GET", "/api/job/jobs/foo_job").json()
    assert job["cron"] == "0/5 * * * * ?" and job["shardingTotalCount"] == 5 and job["appName"] == "foo_app"
    assert call(api, "POST", "/api/job/register", json=FOO_JOB).status_code == 409
    assert (
        call(api, "PUT", "/api/job/update", json={"jobName": "foo_job", "cron": "0 0 * * * ?"}).status_code
        == 204
    )
    updated = call(api, "GET", "/api/job/jobs/foo_job").json()
    assert updated == {**job, "cron": "0 0 * * * ?"}
    assert [j["jobName"] for j in call(api, "GET", "/api/job/jobs").json()] == ["foo_job"]
    assert call(api, "GET", "/api/job/statistics/jobs/type").json() == {
        "scriptJobCount": 0,
        "simpleJobCount": 1,
        "dataflowJobCount": 0,
    }
    assert call(api, "GET", "/api/job/statistics/jobs/executionType").json() == {
        "transientJobCount": 1,
        "daemonJobCount": 0,
    }
    assert call(api, "DELETE", "/api/job/foo_job/deregister").status_code == 204
    assert call(api, "GET", "/api/job/jobs/foo_job").status_code == 404
    assert call(api, "DELETE", "/api/job/foo_job/deregister").status_code == 204  # idempotent


def test_job_disable_follows_its_app(app_published):
    api = app_published
    call(api, "POST", "/api/job/register", json=FOO_JOB)
    assert call(api, "GET", "/api/job/foo_job/disable").json() is False
    call(api, "POST", "/api/app/foo_app/disable")
    assert call(api, "GET", "/api/job/foo_job/disable").json() is True
    call(api, "POST", "/api/app/foo_app/enable")
    call(api, "POST", "/api/job/foo_job/disable")
    assert call(api, "GET", "/api/job/foo_job/disable").json() is True
    assert call(api, "POST", "/api/job/foo_job/enable").status_code == 204
    assert call(api, "GET", "/api/job/foo_job/disable").json() is False


@pytest.mark.parametrize("body", ["foo_job", '"foo_job"', '{"jobName": "foo_job"}'])
def test_trigger_and_deregister_accept_plain_and_quoted_names(app_published, body):
    api = app_published
    call(api, "POST", "/api/job/register", json=FOO_JOB)
    for content_type in ("application/json", "text/plain"):
        response = requests.post(
            api.base_url + "/api/job/trigger", data=body, headers={"Content-Type": content_type}, timeout=10
        )
        assert response.status_code == 204
    assert call(api, "GET", "/api/job/tasks/ready").json() == [{"jobName": "foo_job", "times": "2"}]
    assert call(api, "DELETE", "/api/job/deregister", data=body).status_code == 204
    assert call(api, "GET", "/api/job/jobs").json() == []
    assert call(api, "GET", "/api/job/tasks/ready").json() == []


def test_trigger_without_misfire_keeps_one_run(app_published):
    api = app_published
    call(api, "POST", "/api/job/register", json={**FOO_JOB, "misfire": False})
    for _ in range(3):
        call(api, "POST", "/api/job/trigger", data="foo_job")
    assert call(api, "GET", "/api/job/tasks/ready").json() == [{"jobName": "foo_job", "times": "1"}]


def test_trigger_refusals(app_published):
    api = app_published
    call(api, "POST", "/api/job/register", json={**FOO_JOB, "jobExecutionType": "DAEMON"})
    daemon = call(api, "POST", "/api/job/trigger", data="foo_job")
    assert (
        daemon.status_code == 409 and "daemon job 'foo_job' cannot be triggered" in daemon.json()["message"]
    )
    assert call(api, "POST", "/api/job/trigger", data="ghost").status_code == 404
    assert call(api, "POST", "/api/job/trigger", data="").status_code == 400
    assert call(api, "GET", "/api/job/tasks/ready").json() == []


def test_task_views_read_zookeeper(app_published):
    api = app_published
    from elasticjob_cloud.core.ports import FailoverEntry, RunningEntry

    call(api, "POST", "/api/job/register", json=FOO_JOB)  # a failover entry needs its job
    task_id = "foo_job@-@2@-@FAILOVER@-@agent-1@-@0f1e"
    record_running(api.registry, RunningEntry("foo_job", 2, task_id))
    api.registry.failover.add(FailoverEntry("foo_job", 1, "foo_job@-@1@-@READY@-@agent-0@-@abcd"))
    assert call(api, "GET", "/api/job/tasks/running").json() == [
        {
            "id": task_id,
            "metaInfo": {"jobName": "foo_job", "shardingItems": [2]},
            "type": "FAILOVER",
            "slaveId": "agent-1",
            "idle": False,
        },
    ]
    assert call(api, "GET", "/api/job/tasks/failover").json() == [
        {
            "taskInfo": {"jobName": "foo_job", "shardingItems": [1]},
            "originalTaskId": "foo_job@-@1@-@READY@-@agent-0@-@abcd",
        },
    ]


def test_numbers_as_strings_and_unknown_fields(app_published):
    api = app_published
    body = {**FOO_JOB, "shardingTotalCount": "3", "cpuCount": "0.5", "memoryMB": "32", "bootstrapScript": "x"}
    assert call(api, "POST", "/api/job/register", json=body).status_code == 204
    job = call(api, "GET", "/api/job/jobs/foo_job").json()
    assert (job["shardingTotalCount"], job["cpuCount"], job["memoryMB"]) == (3, 0.5, 32.0)
    assert "bootstrapScript" not in job


def test_openapi_document_describes_the_schemas(api):
    spec = call(api, "GET", "/api/openapi.json").json()
    assert spec["openapi"].startswith("3.")
    assert {"appName", "appURL", "bootstrapScript"} <= set(spec["components"]["schemas"]["App"]["properties"])
    assert "shardingItemParameters" in spec["components"]["schemas"]["Job"]["properties"]
    assert "post" in spec["paths"]["/api/job/register"]


def test_unknown_route_and_method_are_json_errors(api):
    missing = call(api, "GET", "/api/nope")
    assert missing.status_code == 404 and "message" in missing.json()
    wrong = call(api, "PATCH", "/api/app")
    assert wrong.status_code == 405 and "message" in wrong.json()


def test_legacy_prototype_api(api):
    body = {
        "jobName": "proto_job",
        "cron": "0/10 * * * * ?",
        "shardingTotalCount": 2,
        "cpuCount": 0.1,
        "memoryMB": 64,
        "dockerImageName": "centos:7",
        "appURL": "http://repo/proto_job.sh",
        "failover": True,
        "misfire": False,
    }
    assert call(api, "POST", "/job/register", json=body).status_code == 204
    app = call(api, "GET", "/api/app/proto_job").json()
    assert (app["appURL"], app["bootstrapScript"]) == ("http://repo/proto_job.sh", "bin/start.sh")
    job = call(api, "GET", "/api/job/jobs/proto_job").json()
    assert (job["jobType"], job["jobExecutionType"], job["scriptCommandLine"], job["dockerImageName"]) == (
        "SCRIPT",
        "TRANSIENT",
        "bin/start.sh",
        "centos:7",
    )
    assert call(api, "POST", "/job/register", json=body).status_code == 409
    assert call(api, "DELETE", "/job/unregister", data="proto_job").status_code == 204
    assert call(api, "GET", "/api/app/list").json() == []
    assert call(api, "GET", "/api/job/jobs").json() == []
