"""What lands in a real ZooKeeper: the original's paths and bytes, ACLs, and outages."""

import json
import time

import pytest
from kazoo.client import KazooClient
from kazoo.exceptions import NoAuthError

from elasticjob_cloud.core.models import AppConfig, ExecutionType, JobConfig, JobType
from elasticjob_cloud.exceptions import RegistryUnavailable
from elasticjob_cloud.registry import Registry, connect
from elasticjob_cloud.registry.zkserver import ZooKeeperServer
from elasticjob_cloud.registry.zookeeper import KazooTree
from tests.support import JAVA_APP_JSON, JAVA_JOB_JSON


@pytest.fixture
def raw(zk_hosts):
    client = KazooClient(hosts=zk_hosts.split("/")[0])
    client.start(10)
    yield client, "/" + zk_hosts.split("/", 1)[1]
    client.stop()


def test_configs_are_stored_at_the_original_paths_in_its_field_order(zk_connection, raw):
    client, chroot = raw
    registry = Registry.over(KazooTree(zk_connection))
    registry.config.add_app(AppConfig("test_app", "http://localhost/app.jar", "bin/start.sh"))
    job = JobConfig(
        "test_job",
        "test_app",
        JobType.SIMPLE,
        ExecutionType.TRANSIENT,
        "0/30 * * * * ?",
        10,
        1.0,
        128.0,
        job_class="com.dangdang.ddframe.job.cloud.scheduler.fixture.TestSimpleJob",
        failover=True,
        misfire=True,
    )
    registry.config.add_job(job)
    root = f"{chroot}/elastic-job-cloud"
    assert client.get(f"{root}/config/app/test_app")[0].decode() == JAVA_APP_JSON
    assert client.get(f"{root}/config/job/test_job")[0].decode() == JAVA_JOB_JSON
    registry.ready.trigger("test_job", lambda j: True)
    registry.disable.disable_job("test_job")
    assert client.get(f"{root}/state/ready/test_job")[0] == b"1"
    assert client.get(f"{root}/state/disable/job/test_job")[0] == b"test_job"


def test_data_written_by_the_original_reads_back(zk_connection, raw):
    client, chroot = raw
    root = f"{chroot}/elastic-job-cloud"
    client.create(f"{root}/config/app/test_app", JAVA_APP_JSON.encode(), makepath=True)
    client.create(f"{root}/config/job/test_job", JAVA_JOB_JSON.encode(), makepath=True)
    client.create(f"{root}/state/ready/test_job", b"3", makepath=True)
    registry = Registry.over(KazooTree(zk_connection))
    job = registry.config.get_job("test_job")
    assert (job.job_name, job.app_name, job.cron, job.sharding_total_count, job.misfire) == (
        "test_job",
        "test_app",
        "0/30 * * * * ?",
        10,
        True,
    )
    assert registry.config.get_app("test_app").memory_mb == 128.0
    assert registry.ready.counts() == {"test_job": 3}


def test_unreadable_stored_config_is_skipped_not_fatal(zk_connection, raw):
    client, chroot = raw
    client.create(f"{chroot}/elastic-job-cloud/config/job/broken", b"{not json", makepath=True)
    registry = Registry.over(KazooTree(zk_connection))
    assert registry.config.list_jobs() == []
    assert registry.config.get_job("broken") is None


def test_digest_acl_keeps_other_clients_out(zk_hosts, raw):
    client, chroot = raw
    registry, connection = connect(zk_hosts, "secured", digest="ejc:s3cret")
    try:
        registry.config.add_app(AppConfig("app", "http://h/a.tgz", "run.sh"))
        with pytest.raises(NoAuthError):
            client.get(f"{chroot}/secured/config/app/app")
        assert registry.config.get_app("app").app_url == "http://h/a.tgz"
    finally:
        connection.stop()


def test_outage_fails_fast_and_half_writes_nothing(tmp_path):
    server = ZooKeeperServer(data_dir=str(tmp_path / "zk")).start()
    registry, connection = connect(server.hosts, operation_timeout=2.0, session_timeout=30.0)
    try:
        registry.config.add_app(AppConfig("app", "http://h/a.tgz", "run.sh"))
        job = JobConfig(
            "job", "app", JobType.SIMPLE, ExecutionType.TRANSIENT, "0 * * * * ?", 1, 1.0, 1.0, "a.B"
        )
        registry.config.add_job(job)
        registry.ready.trigger("job", lambda j: True)
        server.stop()
        started = time.monotonic()
        with pytest.raises(RegistryUnavailable):
            registry.config.remove_app("app")
        assert time.monotonic() - started < 5
        server = ZooKeeperServer(port=server.port, data_dir=str(tmp_path / "zk")).start()
        from tests.support import wait_until

        wait_until(lambda: connection.client.connected, 20, message="kazoo reconnect")
        assert registry.config.get_job("job") == job
        assert registry.ready.counts() == {"job": 1}
        assert [a.app_name for a in registry.config.list_apps()] == ["app"]
    finally:
        connection.stop()
        server.stop()


def test_stored_json_is_compact_like_the_original(zk_connection, raw):
    client, chroot = raw
    Registry.over(KazooTree(zk_connection)).config.add_app(AppConfig("a", "file:///x.tgz", "s"))
    data = client.get(f"{chroot}/elastic-job-cloud/config/app/a")[0].decode()
    assert data == json.dumps(json.loads(data), separators=(",", ":"))
