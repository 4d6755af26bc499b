"""Shared fixtures: one real ZooKeeper server per test session, a fresh chroot per test."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from elasticjob_cloud.registry.zkserver import ZooKeeperServer


@pytest.fixture(scope="session")
def zk_server() -> Iterator[ZooKeeperServer]:
    with ZooKeeperServer() as server:
        yield server


@pytest.fixture
def zk_hosts(zk_server: ZooKeeperServer) -> str:
    """``host:port/chroot`` of an empty, private chroot on the session's ZooKeeper."""
    return f"{zk_server.hosts}/t-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def zk_connection(zk_hosts):
    from elasticjob_cloud.registry.zookeeper import ZooKeeperConnection

    connection = ZooKeeperConnection(zk_hosts, "elastic-job-cloud").start()
    yield connection
    connection.stop()


@pytest.fixture(params=["memory", "zookeeper"])
def registry(request):
    """The same stores over the in-memory twin and over a real ZooKeeper (a chroot per test)."""
    from elasticjob_cloud.registry import Registry
    from elasticjob_cloud.registry.zookeeper import KazooTree

    if request.param == "memory":
        return Registry.in_memory(queue_size=5)
    connection = request.getfixturevalue("zk_connection")
    return Registry.over(KazooTree(connection), queue_size=5)


@pytest.fixture
def api(zk_hosts):
    """A live REST server (waitress, real HTTP) over a real ZooKeeper chroot; yields its base URL."""
    from elasticjob_cloud.bootstrap import start_api
    from elasticjob_cloud.settings import Settings

    stack = start_api(
        Settings(zk_servers=zk_hosts, http_port=0, hostname="127.0.0.1"),
        host="127.0.0.1",
        run_scheduler=False,
    )
    stack.base_url = f"http://127.0.0.1:{stack.rest.port}"
    yield stack
    stack.stop()
