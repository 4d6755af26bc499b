"""``elasticjob-cloud import --from-zookeeper``: an original's namespace, written in its own 2.x
(JSON) and 3.x (YAML) formats into a real ZooKeeper chroot, moved through a live API."""

from __future__ import annotations

import json
import uuid

import pytest
import requests
from kazoo.client import KazooClient

from elasticjob_cloud.cli import main
from tests.support import JAVA_APP_JSON, JAVA_JOB_JSON

APP_3X = """\
appCacheEnable: true
appName: app3
appURL: http://localhost/app3.tar.gz
bootstrapScript: bin/start.sh
cpuCount: 1.0
eventTraceSamplingCount: 0
memoryMB: 128.0
"""
# 3.x's own fixture form (CloudJobConfigurationServiceTest), for app3
JOB_3X = """\
appName: app3
cpuCount: 1.0
cron: 0/30 * * * * ?
description: ''
disabled: false
failover: true
jobExecutionType: TRANSIENT
jobName: {name}
jobParameter: ''
maxTimeDiffSeconds: -1
memoryMB: 128.0
misfire: true
monitorExecution: true
overwrite: false
reconcileIntervalMinutes: 10
shardingItemParameters: ''
shardingTotalCount: 10
"""


@pytest.fixture
def original(zk_server):
    """A chroot holding an original's data; yields (hosts, writer)."""
    chroot = f"/orig-{uuid.uuid4().hex[:10]}"
    hosts = zk_server.hosts + chroot
    client = KazooClient(hosts=zk_server.hosts)
    client.start(15)
    client.ensure_path(chroot)
    client.stop()
    client.close()
    writer = KazooClient(hosts=hosts)
    writer.start(15)

    def write(path: str, text: str) -> None:
        writer.create(path, text.encode(), makepath=True)

    yield hosts, write
    writer.stop()
    writer.close()


def test_import_from_a_2x_namespace(api, original, capsys):
    hosts, write = original
    write("/elastic-job-cloud/config/app/test_app", JAVA_APP_JSON)
    write("/elastic-job-cloud/config/job/test_job", JAVA_JOB_JSON)
    write("/elastic-job-cloud/state/disable/job/test_job", "test_job")
    write("/elastic-job-cloud/state/ready/test_job", "3")  # state the migration leaves behind
    url = api.base_url
    assert main(["import", "--api", url, "--from-zookeeper", hosts, "--dry-run"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "would create app test_app",
        "would create job test_job: registered disabled",
        "2 change(s) planned; nothing was changed (--dry-run)",
    ]
    assert main(["import", "--api", url, "--from-zookeeper", hosts]) == 0
    capsys.readouterr()
    assert requests.get(f"{url}/api/app/test_app", timeout=10).json() == json.loads(JAVA_APP_JSON)
    assert requests.get(f"{url}/api/job/jobs/test_job", timeout=10).json() == json.loads(JAVA_JOB_JSON)
    assert requests.get(f"{url}/api/job/disabled", timeout=10).json() == ["test_job"]
    assert requests.get(f"{url}/api/job/tasks/ready", timeout=10).json() == []
    assert main(["import", "--api", url, "--from-zookeeper", hosts]) == 0
    assert capsys.readouterr().out == "nothing to change\n"


def test_import_from_a_3x_namespace(api, original, capsys):
    hosts, write = original
    root = "/elasticjob-cloud"
    write(f"{root}/config/app/app3", APP_3X)
    write(f"{root}/state/disable/app/app3", "app3")
    script = JOB_3X.format(name="script_job") + "props:\n  script.command.line: echo hello\n"
    write(f"{root}/config/job/script_job", script)
    write(f"{root}/config/job/class_job", JOB_3X.format(name="class_job"))
    write(
        f"{root}/config/job/listener_job", JOB_3X.format(name="listener_job") + "jobListenerTypes:\n- LOG\n"
    )
    url = api.base_url
    command = ["import", "--api", url, "--from-zookeeper", hosts, "--namespace", "elasticjob-cloud"]

    assert main(command) == 1  # class_job names no class; listener_job asks for what cannot be honoured
    captured = capsys.readouterr()
    assert "skipped job class_job (3.x): " in captured.err and "jobClass" in captured.err
    assert "skipped job listener_job (3.x): " in captured.err and "jobListenerTypes" in captured.err
    script_job = requests.get(f"{url}/api/job/jobs/script_job", timeout=10).json()
    assert script_job["jobType"] == "SCRIPT" and script_job["scriptCommandLine"] == "echo hello"
    assert script_job["shardingTotalCount"] == 10 and script_job["cron"] == "0/30 * * * * ?"
    assert requests.get(f"{url}/api/app/app3/disable", timeout=10).json() is True

    assert (
        main([*command, "--job-class", "class_job=example_jobs.simple.HelloJob"]) == 1
    )  # listener_job still
    capsys.readouterr()
    class_job = requests.get(f"{url}/api/job/jobs/class_job", timeout=10).json()
    assert (class_job["jobType"], class_job["jobClass"]) == ("SIMPLE", "example_jobs.simple.HelloJob")
    assert sorted(job["jobName"] for job in requests.get(f"{url}/api/job/jobs", timeout=10).json()) == [
        "class_job",
        "script_job",
    ]


def test_a_missing_namespace_changes_nothing(api, original, capsys):
    hosts, _ = original
    assert main(["import", "--api", api.base_url, "--from-zookeeper", hosts, "--namespace", "nope"]) == 2
    assert "no namespace /nope" in capsys.readouterr().err
    reader = KazooClient(hosts=hosts)
    reader.start(15)
    try:
        assert reader.exists("/nope") is None  # read-only: nothing was created
    finally:
        reader.stop()
        reader.close()
