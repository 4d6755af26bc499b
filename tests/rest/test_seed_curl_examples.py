"""The documented curl examples, run verbatim with curl (only host and port adapted).

Sources: the original's REST guide (apps, jobs, Java and Spring registration, update,
deregister, trigger) and the prototype's job API (``/job/register``, ``/job/unregister``).
"""

import shutil
import subprocess

import pytest
import requests

pytestmark = pytest.mark.skipif(
    shutil.which("curl") is None, reason="curl is installed by scripts/install.sh"
)

PUBLISH_APP = """curl -l -H "Content-type: application/json" -X POST -d '{"appName":"foo_app","appURL":"http://app_host:8080/foo-job.tar.gz","cpuCount":0.1,"memoryMB":64.0,"bootstrapScript":"bin/start.sh","appCacheEnable":true,"eventTraceSamplingCount":0}' http://elastic_job_cloud_host:8899/api/app"""
UPDATE_APP = """curl -l -H "Content-type: application/json" -X PUT -d '{"appName":"foo_app","appCacheEnable":true}' http://elastic_job_cloud_host:8899/api/app"""
REGISTER_JAVA = """curl -l -H "Content-type: application/json" -X POST -d '{"jobName":"foo_job","appName":"foo_app","jobClass":"yourJobClass","jobType":"SIMPLE","jobExecutionType":"TRANSIENT","cron":"0/5 * * * * ?","shardingTotalCount":5,"cpuCount":0.1,"memoryMB":64.0,"appURL":"http://app_host:8080/foo-job.tar.gz","failover":true,"misfire":true,"bootstrapScript":"bin/start.sh"}' http://elastic_job_cloud_host:8899/api/job/register"""
REGISTER_SPRING = """curl -l -H "Content-type: application/json" -X POST -d '{"jobName":"foo_job","jobClass":"yourJobClass","beanName":"yourBeanName","applicationContext":"applicationContext.xml","jobType":"SIMPLE","jobExecutionType":"TRANSIENT","cron":"0/5 * * * * ?","shardingTotalCount":5,"cpuCount":0.1,"memoryMB":64.0,"appURL":"http://file_host:8080/foo-job.tar.gz","failover":false,"misfire":true,"bootstrapScript":"bin/start.sh"}' http://elastic_job_cloud_masterhost:8899/api/job/register"""
UPDATE_JOB = """curl -l -H "Content-type: application/json" -X PUT -d \\
'{"jobName":"foo_job","jobClass":"yourJobClass","jobType":"SIMPLE","jobExecutionType":"TRANSIENT","cron":"0/5 * * * * ?","shardingTotalCount":5,"cpuCount":0.1,"memoryMB":64.0,"appURL":"http://app_host:8080/foo-job.tar.gz","failover":true,"misfire":true,"bootstrapScript":"bin/start.sh"}' http://elastic_job_cloud_host:8899/api/job/update"""
DEREGISTER = """curl -l -H "Content-type: application/json" -X DELETE -d 'foo_job' http://elastic_job_cloud_host:8899/api/job/deregister"""
TRIGGER = """curl -l -H "Content-type: application/json" -X POST -d 'foo_job' http://elastic_job_cloud_host:8899/api/job/trigger"""
PROTOTYPE_REGISTER = """curl -l -H "Content-type: application/json" -X POST -d '{"jobName":"proto_job","cron":"0/5 * * * * ?","shardingTotalCount":3,"cpuCount":0.1,"memoryMB":64.0,"dockerImageName":"centos:7","appURL":"http://app_host:8080/proto-job.tar.gz","failover":true,"misfire":false}' http://elastic_job_cloud_host:8899/job/register"""
PROTOTYPE_UNREGISTER = """curl -l -H "Content-type: application/json" -X DELETE -d 'proto_job' http://elastic_job_cloud_host:8899/job/unregister"""


def run(api, command):
    """Run a documented command with its host:port pointed at the live server; return the HTTP status."""
    for host in ("elastic_job_cloud_masterhost:8899", "elastic_job_cloud_host:8899"):
        command = command.replace(host, f"127.0.0.1:{api.rest.port}")
    result = subprocess.run(
        ["bash", "-c", command + " -s -o /dev/stderr -w '%{http_code}'"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    return int(result.stdout), result.stderr


def get(api, path):
    return requests.get(f"{api.base_url}{path}", timeout=10)


def test_guide_examples(api):
    assert run(api, PUBLISH_APP)[0] == 204
    assert get(api, "/api/app/foo_app").json()["cpuCount"] == 0.1
    assert run(api, UPDATE_APP)[0] == 204
    assert get(api, "/api/app/foo_app").json()["appURL"] == "http://app_host:8080/foo-job.tar.gz"  # kept

    assert run(api, REGISTER_JAVA)[0] == 204
    job = get(api, "/api/job/jobs/foo_job").json()
    assert (job["appName"], job["jobClass"], job["shardingTotalCount"], job["failover"]) == (
        "foo_app",
        "yourJobClass",
        5,
        True,
    )
    status, body = run(api, UPDATE_JOB)  # no appName in the body: the job keeps its app
    assert status == 204, body
    assert get(api, "/api/job/jobs/foo_job").json()["appName"] == "foo_app"

    assert run(api, TRIGGER)[0] == 204
    assert run(api, TRIGGER)[0] == 204
    assert get(api, "/api/job/tasks/ready").json() == [{"jobName": "foo_job", "times": "2"}]

    assert run(api, DEREGISTER)[0] == 204
    assert get(api, "/api/job/jobs/foo_job").status_code == 404
    assert get(api, "/api/job/tasks/ready").json() == []

    # The Spring example names no app: its app is created from its appURL, named after the job.
    assert run(api, REGISTER_SPRING)[0] == 204
    spring = get(api, "/api/job/jobs/foo_job").json()
    assert (spring["appName"], spring["beanName"], spring["applicationContext"]) == (
        "foo_job",
        "yourBeanName",
        "applicationContext.xml",
    )
    assert get(api, "/api/app/foo_job").json()["appURL"] == "http://file_host:8080/foo-job.tar.gz"
    assert run(api, REGISTER_SPRING)[0] == 409


def test_prototype_examples(api):
    assert run(api, PROTOTYPE_REGISTER)[0] == 204
    job = get(api, "/api/job/jobs/proto_job").json()
    assert (job["jobType"], job["scriptCommandLine"], job["dockerImageName"], job["shardingTotalCount"]) == (
        "SCRIPT",
        "bin/start.sh",
        "centos:7",
        3,
    )
    assert get(api, "/api/app/proto_job").json()["appURL"] == "http://app_host:8080/proto-job.tar.gz"
    assert run(api, PROTOTYPE_UNREGISTER)[0] == 204
    assert get(api, "/api/job/jobs").json() == []
    assert get(api, "/api/app/list").json() == []
