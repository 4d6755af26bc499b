"""Composition root: the only module that wires concrete classes together.

Every scheduler instance connects to ZooKeeper, serves the REST API and enters the leader election
(identity ``hostname:http_port``); only the elected leader runs the cron producer, the engine and
the Mesos driver (``mesos.node.SchedulerNode``). ``standalone`` adds a private ZooKeeper and the
local Mesos in front of that.
"""

from __future__ import annotations

import logging
import shlex
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .core import paths
from .lifecycle import Lifecycle
from .localmesos import LocalMesosCluster
from .mesos import driver as _pymesos_seam  # noqa: F401  pymesos must be imported on the main thread
from .mesos.engine import Listener
from .mesos.node import SchedulerNode
from .mesos.vitals import RegistryQueues, vitals_source
from .metrics import Metrics
from .registry import Registry, connect
from .registry.console_keys import ConsoleKeys
from .registry.election import LeaderElection
from .registry.zkserver import ZooKeeperServer
from .registry.zookeeper import ZooKeeperConnection
from .rest.app import Services, create_app
from .rest.audit import MemoryAuditLog
from .rest.credentials import build_authenticator
from .rest.server import RestServer
from .settings import Settings, effective_time_zone
from .trace.audit import TraceAuditLog
from .trace.database import sqlite_url, trace_url
from .trace.service import TraceService

log = logging.getLogger(__name__)

# The local agents die with this process and never recover: executors left behind by a killed
# standalone stack exit this long after (a real agent's recovery_timeout is 15 minutes).
STANDALONE_RECOVERY_TIMEOUT = 3.0
LOCAL_EXECUTOR_COMMAND = f"exec {shlex.quote(sys.executable)} -m elasticjob_cloud.executor.main"


@dataclass
class Stack:
    """Everything one process started, stopped in reverse order."""

    settings: Settings
    registry: Registry
    rest: RestServer
    connection: ZooKeeperConnection | None = None
    zookeeper: ZooKeeperServer | None = None
    node: SchedulerNode | None = None
    election: LeaderElection | None = None
    cluster: LocalMesosCluster | None = None
    trace: TraceService | None = None
    stopped: threading.Event = field(default_factory=threading.Event)

    @property
    def api_url(self) -> str:
        return f"http://{self.settings.hostname}:{self.rest.port}"

    def stop(self) -> None:
        if self.stopped.is_set():
            return
        self.stopped.set()
        for step in (
            self.election and self.election.stop,
            self.node and self.node.stop,
            self.rest.stop,
            self.trace and self.trace.stop,  # after the scheduler: its last rows are flushed
            self.connection and self.connection.stop,
            self.cluster and self.cluster.stop,
            self.zookeeper and self.zookeeper.stop,
        ):
            if step:
                try:
                    step()
                except Exception:
                    log.exception("stopping %s failed", step)


def start_api(
    settings: Settings,
    zookeeper: ZooKeeperServer | None = None,
    host: str = "0.0.0.0",
    run_scheduler: bool = True,
    listener: Listener | None = None,
    auth_default: bool = False,
) -> Stack:
    """Connect to ZooKeeper, serve the REST API and (``run_scheduler``) stand for election.

    Authentication follows ``auth_enabled``, else ``auth_default`` (a SettingsError when it is on
    without an admin account, raised before anything starts).
    """
    auth = build_authenticator(settings, auth_default)
    registry, connection = connect(
        settings.zk_servers,
        settings.zk_namespace,
        settings.zk_digest,
        queue_size=settings.job_state_queue_size,
        session_timeout=settings.zk_session_timeout_seconds,
        operation_timeout=settings.zk_operation_timeout_seconds,
    )
    try:
        trace = start_trace(settings, registry)
    except BaseException:
        connection.stop()
        raise
    if auth is not None:  # sessions signed with the namespace's key: valid on every instance
        auth.sessions.keys = ConsoleKeys(registry.tree)
    node = SchedulerNode(
        settings,
        registry,
        settings.http_port,
        zookeeper_state=lambda: _zk_state(connection),
        trace=trace.recorder if trace else None,
    )
    node.keep_warm()  # a standby takes over without loading the job catalog first (issue #13)
    if trace is not None:
        trace.is_leader = lambda: node.role() == "leader"
    metrics = Metrics()
    if trace is not None:
        metrics.trace_backlog = lambda: trace.writer.backlog
    connection.timer = metrics.zookeeper_operation
    metrics.add_source(
        vitals_source(
            node if run_scheduler else None, RegistryQueues(registry), lambda: connection.client.connected
        )
    )
    try:
        services = Services(
            lifecycle=Lifecycle(registry),
            time_zone=effective_time_zone(settings),
            control=node if run_scheduler else None,
            metrics=metrics,
            auth=auth,
            trace=trace,
            audit=TraceAuditLog(trace) if trace is not None else MemoryAuditLog(),
        )
        rest = RestServer(create_app(services), host=host, port=settings.http_port).start()
    except BaseException:  # Ctrl-C during start-up too: nothing started may outlive us
        if trace is not None:
            trace.stop()
        connection.stop()
        raise
    node.webui_port = rest.port
    stack = Stack(settings, registry, rest, connection, zookeeper, node=node, trace=trace)
    node.listener = fan_out(metrics.engine_event, listener)
    if run_scheduler:
        try:
            identity = f"{settings.hostname}:{rest.port}"
            stack.election = LeaderElection(
                connection, identity, node.elected, node.revoked, on_disconnected=node.halt_driver
            )
            election = stack.election
            node.subscribe_guard = election.confirmed  # no SUBSCRIBE from a deposed leader (issue #13)
            node.leadership_stores = lambda: (
                registry.fenced(election.candidate_path) if election.candidate_path else registry
            )
            node.leader_identity = stack.election.leader_identity
            node.identity = identity
            stack.election.start()
        except BaseException:
            stack.stop()
            raise
    return stack


def fan_out(*listeners: Listener | None) -> Listener:
    """One engine listener calling each given one; a failing listener never reaches the engine."""
    active = [listener for listener in listeners if listener is not None]

    def call_each(kind: str, payload: Any, now: float) -> None:
        for listener in active:
            try:
                listener(kind, payload, now)
            except Exception:
                log.exception("engine listener %r failed on %s", listener, kind)

    return call_each


def start_trace(settings: Settings, registry: Registry) -> TraceService | None:
    """The event trace of the settings' database, started; None when none is configured."""
    url = trace_url(
        settings.event_trace_rdb_url, settings.event_trace_rdb_username, settings.event_trace_rdb_password
    )
    if url is None:
        return None
    log.info("event trace in %s", url.render_as_string(hide_password=True))
    return TraceService(
        url,
        effective_time_zone(settings),
        settings.event_trace_journal or "event-trace.journal",
        settings.event_trace_retention_days,
        registered_count=lambda: len(registry.tree.children(paths.CONFIG_JOB)),
    ).start()


def _zk_state(connection: ZooKeeperConnection) -> str:
    try:
        return str(connection.client.state)
    except Exception:
        return "unknown"


def start_standalone(
    settings: Settings,
    zk_data_dir: str | None = None,
    agents: int = 2,
    work_dir: str | None = None,
    host: str = "127.0.0.1",
    auth_default: bool = False,
    **cluster_options: Any,
) -> Stack:
    """A private ZooKeeper (unless ``zk_servers`` was given), the local Mesos, and a scheduler.

    The API listens on ``host``: loopback by default, as a stack that may run without
    authentication must not be reachable from other machines.
    """
    build_authenticator(settings, auth_default)  # refuse bad auth settings before starting anything
    zookeeper = None
    cluster = None
    try:
        if not settings.zk_servers:
            zookeeper = ZooKeeperServer(data_dir=zk_data_dir).start()
            settings = settings.replace(zk_servers=zookeeper.hosts)
            log.info("private ZooKeeper on %s", zookeeper.hosts)
        cluster_options.setdefault("recovery_timeout", STANDALONE_RECOVERY_TIMEOUT)
        cluster = LocalMesosCluster(
            agents=agents, work_dir=work_dir, hostname=settings.hostname, **cluster_options
        )
        cluster.start()
        settings = settings.replace(mesos_url=cluster.master_url.removeprefix("http://"))
        if not settings.event_trace_rdb_url:  # the embedded default: a SQLite file in the work dir
            trace_dir = Path(work_dir) if work_dir else cluster.work_dir
            settings = settings.replace(
                event_trace_rdb_url=sqlite_url(trace_dir / "event-trace.db").render_as_string(),
                event_trace_journal=settings.event_trace_journal or str(trace_dir / "event-trace.journal"),
            )
        if settings.executor_command == Settings().executor_command:
            settings = settings.replace(executor_command=LOCAL_EXECUTOR_COMMAND)  # this very interpreter
        stack = start_api(settings, zookeeper, host=host, auth_default=auth_default)
    except BaseException:  # Ctrl-C during start-up too: nothing started may outlive us
        if cluster is not None:
            cluster.stop()
        if zookeeper is not None:
            zookeeper.stop()
        raise
    stack.cluster = cluster
    return stack
