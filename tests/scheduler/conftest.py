"""Fixtures for the scheduler's end-to-end tests (helpers in ``schedkit``)."""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from elasticjob_cloud.localmesos import LocalMesosCluster
from elasticjob_cloud.registry import connect
from tests.scheduler.schedkit import (
    AGENT_RESOURCES,
    CLUSTER_OPTIONS,
    Harness,
    SchedulerProcess,
    read_records,
    tear_down,
)
from tests.support import wait_until

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture(scope="session")
def packed_app(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example app packed by ``examples/pack.sh``, as a .tar.gz (served by ``file://``)."""
    dest = tmp_path_factory.mktemp("scheduler-app")
    out = subprocess.run([str(EXAMPLES / "pack.sh"), str(dest)], check=True, capture_output=True, text=True)
    path = Path(out.stdout.strip())
    assert path.is_file()
    return path


@pytest.fixture
def record_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Where the example jobs record their executions (the agents pass this env to executors)."""
    directory = tmp_path / "records"
    directory.mkdir()
    monkeypatch.setenv("ELASTICJOB_EXAMPLE_RECORD_DIR", str(directory))
    monkeypatch.setenv("ELASTICJOB_CLOUD_KILL_GRACE_SECONDS", "1")
    return directory


@pytest.fixture
def make_scheduler(
    zk_hosts: str, tmp_path: Path, packed_app: Path, record_dir: Path
) -> Iterator[Callable[..., Harness]]:
    made: list[Harness] = []

    def factory(agents: int = 2, cluster_options: dict[str, Any] | None = None, **settings: Any) -> Harness:
        harness = Harness(
            zk_hosts,
            tmp_path / f"mesos{len(made)}",
            packed_app,
            record_dir,
            agents,
            settings,
            cluster_options=cluster_options or {},
        )
        made.append(harness)
        harness.start()
        harness.app()
        return harness

    yield factory
    for harness in made:
        harness.close()


@pytest.fixture
def scheduler(make_scheduler: Callable[..., Harness]) -> Harness:
    """A started scheduler (2 agents) with the example app ``demo`` registered."""
    return make_scheduler()


class Stack:
    """Local Mesos + registry in this process; schedulers as subprocesses (tests 8 and 9)."""

    def __init__(self, zk_hosts: str, tmp_path: Path, record_dir: Path):
        self.zk_hosts = zk_hosts
        self.tmp_path = tmp_path
        self.record_dir = record_dir
        self.registry, self.connection = connect(zk_hosts)
        self.cluster = LocalMesosCluster(
            agents=2, resources=AGENT_RESOURCES, work_dir=str(tmp_path / "mesos"), **CLUSTER_OPTIONS
        ).start()
        self.processes: list[SchedulerProcess] = []

    def scheduler(self, name: str) -> SchedulerProcess:
        process = SchedulerProcess(self.zk_hosts, self.cluster.master_url, self.tmp_path / "schedulers", name)
        self.processes.append(process)
        return process.start()

    def close(self) -> None:
        def terminate() -> None:
            for process in self.processes:
                process.terminate()

        tear_down(terminate, self.cluster, self.connection, lambda: read_records(self.record_dir))


@pytest.fixture
def stack(zk_hosts: str, tmp_path: Path, record_dir: Path) -> Iterator[Stack]:
    made = Stack(zk_hosts, tmp_path, record_dir)
    try:
        yield made
    finally:
        made.close()


@pytest.fixture
def live(zk_hosts: str, tmp_path: Path, packed_app: Path, record_dir: Path) -> Iterator[str]:
    """A live standalone stack in this process (``bootstrap.start_standalone`` over the test's
    ZooKeeper chroot: local Mesos, scheduler, REST API); yields the API's URL."""
    from elasticjob_cloud.bootstrap import start_standalone
    from elasticjob_cloud.settings import Settings

    settings = Settings(zk_servers=zk_hosts, http_port=0, hostname="127.0.0.1", time_zone="UTC")
    made = start_standalone(
        settings, agents=2, work_dir=str(tmp_path / "live"), resources=AGENT_RESOURCES, **CLUSTER_OPTIONS
    )
    url = f"http://127.0.0.1:{made.rest.port}"
    try:
        wait_until(lambda: requests.get(url + "/health", timeout=5).json()["role"] == "leader", 30, 0.1)
        yield url
    finally:
        made.stop()
