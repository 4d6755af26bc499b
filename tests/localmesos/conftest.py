"""Fixtures for the local Mesos tests: a started cluster with short timers, pymesos drivers that
are always stopped and joined, and a leak check on every process the cluster started."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from lmhelpers import Recorder, make_driver

from elasticjob_cloud.localmesos import LocalMesosCluster

FAST = dict(
    allocation_interval=0.1,
    status_update_retry_interval=0.5,
    executor_shutdown_grace_period=1.0,
    heartbeat_interval=15.0,
)


@pytest.fixture
def make_cluster(tmp_path: Path) -> Iterator[Callable[..., LocalMesosCluster]]:
    clusters: list[LocalMesosCluster] = []

    def factory(**kwargs: Any) -> LocalMesosCluster:
        options: dict[str, Any] = dict(FAST, agents=1, work_dir=tmp_path / f"work{len(clusters)}")
        options.update(kwargs)
        cluster = LocalMesosCluster(**options)
        clusters.append(cluster)
        return cluster.start()

    yield factory
    for cluster in clusters:
        cluster.stop()
    for cluster in clusters:
        assert cluster.live_process_groups() == [], "processes leaked"


@pytest.fixture
def cluster(make_cluster: Callable[..., LocalMesosCluster]) -> LocalMesosCluster:
    return make_cluster()


@pytest.fixture
def drivers() -> Iterator[Callable[..., tuple[Any, Recorder]]]:
    started: list[Any] = []

    def factory(master: str, **kwargs: Any) -> tuple[Any, Recorder]:
        driver, recorder = make_driver(master, **kwargs)
        started.append(driver)
        return driver, recorder

    yield factory
    for driver in started:
        try:
            driver.stop(failover=True)
        finally:
            driver.join()
