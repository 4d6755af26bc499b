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
