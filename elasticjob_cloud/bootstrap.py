"""Composition root: the only module that wires concrete classes together."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field

from .lifecycle import Lifecycle
from .producer_service import ProducerService
from .registry import Registry, connect
from .registry.zkserver import ZooKeeperServer
from .registry.zookeeper import ZooKeeperConnection
from .rest.app import Services, create_app
from .rest.server import RestServer
from .settings import Settings, effective_time_zone

log = logging.getLogger(__name__)


@dataclass
class Stack:
    """Everything one process started, stopped in reverse order."""

    settings: Settings
    registry: Registry
    rest: RestServer
    connection: ZooKeeperConnection | None = None
    zookeeper: ZooKeeperServer | None = None
    producer: ProducerService | None = None
    stopped: threading.Event = field(default_factory=threading.Event)

    @property
    def api_url(self) -> str:
        return f"http://{self.settings.hostname}:{self.rest.port}"

    def stop(self) -> None:
        if self.stopped.is_set():
            return
        self.stopped.set()
        if self.producer is not None:
            self.producer.stop()
        self.rest.stop()
        if self.connection is not None:
            self.connection.stop()
        if self.zookeeper is not None:
            self.zookeeper.stop()


def start_api(
    settings: Settings,
    zookeeper: ZooKeeperServer | None = None,
    host: str = "0.0.0.0",
    run_producer: bool = True,
) -> Stack:
    """Connect to ZooKeeper and serve the REST API (every scheduler instance serves it).

    ``run_producer`` starts the cron producer too; once leader election exists only the leader will.
    """
    registry, connection = connect(
        settings.zk_servers,
        settings.zk_namespace,
        settings.zk_digest,
        queue_size=settings.job_state_queue_size,
        session_timeout=settings.zk_session_timeout_seconds,
        operation_timeout=settings.zk_operation_timeout_seconds,
    )
    try:
        app = create_app(Services(lifecycle=Lifecycle(registry), time_zone=effective_time_zone(settings)))
        rest = RestServer(app, host=host, port=settings.http_port).start()
    except BaseException:  # Ctrl-C during start-up too: nothing started may outlive us
        connection.stop()
        raise
    stack = Stack(settings, registry, rest, connection, zookeeper)
    if run_producer:
        try:
            stack.producer = ProducerService(registry, effective_time_zone(settings)).start()
        except BaseException:  # Ctrl-C during start-up too: nothing started may outlive us
            stack.stop()
            raise
    return stack


def start_standalone(settings: Settings, zk_data_dir: str | None = None) -> Stack:
    """A private ZooKeeper (unless ``zk_servers`` was given) plus the API; later also local Mesos."""
    zookeeper = None
    if not settings.zk_servers:
        zookeeper = ZooKeeperServer(data_dir=zk_data_dir).start()
        settings = settings.replace(zk_servers=zookeeper.hosts)
        log.info("private ZooKeeper on %s", zookeeper.hosts)
    try:
        return start_api(settings, zookeeper)
    except BaseException:  # Ctrl-C during start-up too: nothing started may outlive us
        if zookeeper is not None:
            zookeeper.stop()
        raise
