"""``LocalMesosCluster``: one master and N agents on loopback ports, plus fault injection.

This is the programmatic face of the local Mesos (tests, ``standalone``) and what the
``local-mesos`` command runs. It owns the shared lock, the timer thread, the HTTP servers and the
optional ZooKeeper registration, and it remembers the process group of everything it spawned
so ``stop()`` can prove that nothing outlives it.
"""

from __future__ import annotations

import itertools
import logging
import shutil
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from . import maintenance, registry_gc
from .agent import Agent, AgentConfig
from .agent_registry import AgentRegistry
from .executors import group_alive, kill_group
from .httpbase import TrackingHTTPServer
from .leftovers import kill_leftovers
from .master import Master, MasterConfig
from .master_http import MasterHandler
from .resources import Resources, parse_attributes
from .timers import TimerQueue
from .zkreg import ZkRegistration

logger = logging.getLogger(__name__)

DEFAULT_RESOURCES = "cpus:4;mem:4096;disk:10240;ports:[31000-32000]"


class LocalMesosCluster:
    def __init__(
        self,
        agents: int = 1,
        resources: str = DEFAULT_RESOURCES,
        work_dir: str | Path | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        allocation_interval: float = 1.0,
        zk: str | None = None,
        simulate_tasks: float | None = None,
        attributes: str | None = None,
        executor_shutdown_grace_period: float = 5.0,
        heartbeat_interval: float = 15.0,
        status_update_retry_interval: float = 10.0,
        offer_timeout: float | None = None,
        executor_registration_timeout: float = 60.0,
        hostname: str | None = None,
        recovery_timeout: float = 3.0,
        registry: str = "in_memory",
        agent_reregister_timeout: float = 600.0,
        registry_gc_interval: float = 900.0,
        registry_max_agent_age: float = 14 * 24 * 3600.0,
    ) -> None:
        if agents < 0:
            raise ValueError("agents must be >= 0")
        if allocation_interval <= 0:
            raise ValueError("allocation_interval must be > 0")
        if agent_reregister_timeout <= 0 or registry_gc_interval <= 0:
            raise ValueError("agent_reregister_timeout and registry_gc_interval must be > 0")
        self.total = Resources.parse(resources)
        self.attributes = parse_attributes(attributes)
        self._own_work_dir = work_dir is None
        self.work_dir = Path(work_dir or tempfile.mkdtemp(prefix="localmesos-")).resolve()
        self.host = host
        self.hostname = hostname or host
        self.simulate_tasks = simulate_tasks
        self.allocation_interval = allocation_interval
        self.zk = zk
        self._initial_agents = agents
        self._lock = threading.RLock()
        self.timers = TimerQueue()
        self.master_config = MasterConfig(
            host=host,
            port=port,
            hostname=self.hostname,
            heartbeat_interval=heartbeat_interval,
            allocation_interval=allocation_interval,
            offer_timeout=offer_timeout,
            agent_reregister_timeout=agent_reregister_timeout,
            registry_gc_interval=registry_gc_interval,
            registry_max_agent_age=registry_max_agent_age,
        )
        self.agent_config = AgentConfig(
            work_dir=self.work_dir,
            host=host,
            hostname=self.hostname,
            grace_period=executor_shutdown_grace_period,
            status_update_retry_interval=status_update_retry_interval,
            executor_registration_timeout=executor_registration_timeout,
            heartbeat_interval=heartbeat_interval,
            simulate_tasks=simulate_tasks,
            recovery_timeout=recovery_timeout,
        )
        self.master = Master(
            self.master_config, self.timers, self._lock, AgentRegistry(registry, self.work_dir)
        )
        self.agents: list[Agent] = []
        self.spawned_pids: set[int] = set()
        self._agent_seq = itertools.count()
        self._server: TrackingHTTPServer | None = None
        self._zk: ZkRegistration | None = None
        self._started = False
        self._stopped = False

    # ---- lifecycle -------------------------------------------------------------------------

    def start(self) -> LocalMesosCluster:
        if self._started:
            return self
        self._started = True
        self.work_dir.mkdir(parents=True, exist_ok=True)
        kill_leftovers(self.work_dir)
        self.timers.start()
        self._server = TrackingHTTPServer((self.host, self.master_config.port), MasterHandler, self)
        self.master_config.port = int(self._server.server_address[1])
        self.master_config.flags = self._flags()
        try:
            with self._lock:
                self.master.recover()
            for _ in range(self._initial_agents):
                self.add_agent()
            self._server.serve_in_thread("localmesos-master")
            self.timers.call_later(self.allocation_interval, self._allocation_tick)
            self.timers.call_later(self.master_config.registry_gc_interval, self._registry_gc_tick)
            if self.zk:
                self._zk = ZkRegistration(self.zk)
                self._zk.start(self.master.master_info())
        except BaseException:
            self.stop()
            raise
        if self.simulate_tasks is not None:
            logger.warning("SIMULATED TASKS: no processes run; tasks finish after %ss", self.simulate_tasks)
        logger.info("local Mesos master at %s with %d agent(s)", self.master_url, len(self.agents))
        return self

    def __enter__(self) -> LocalMesosCluster:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def stop(self) -> None:
        """End every process started, close every port; idempotent."""
        if self._stopped:
            return
        self._stopped = True
        if self._zk is not None:
            try:
                self._zk.stop()
            except Exception:
                logger.exception("ZooKeeper unregistration failed")
        with self._lock:
            self.master.drop_streams()
            agents = list(self.agents)
        for agent in agents:
            agent.stop(wait=min(2.0, self.agent_config.grace_period))
        if self._server is not None:
            self._server.close_all()
        self.timers.stop()
        deadline = time.monotonic() + 5.0
        for pid in list(self.spawned_pids):
            kill_group(pid)
            while group_alive(pid) and time.monotonic() < deadline:
                time.sleep(0.01)
        if self._own_work_dir:
            shutil.rmtree(self.work_dir, ignore_errors=True)
        logger.info("local Mesos stopped")

    def _allocation_tick(self) -> None:
        if self._stopped:
            return
        try:
            self.master.allocate()
        finally:
            self.timers.call_later(self.allocation_interval, self._allocation_tick)

    def _registry_gc_tick(self) -> None:
        if self._stopped:
            return
        try:
            with self._lock:
                registry_gc.collect(self.master)
        finally:
            self.timers.call_later(self.master_config.registry_gc_interval, self._registry_gc_tick)

    def _flags(self) -> dict[str, str]:
        return {
            "port": str(self.master_config.port),
            "hostname": self.hostname,
            "work_dir": str(self.work_dir),
            "allocation_interval": f"{self.allocation_interval}secs",
            "authenticate_frameworks": "false",
            "authenticate_agents": "false",
            "zk": self.zk or "",
            "local_mesos": "true",
            "registry": self.master.registry.kind,
            "agent_reregister_timeout": f"{self.master_config.agent_reregister_timeout}secs",
            "registry_gc_interval": f"{self.master_config.registry_gc_interval}secs",
            "registry_max_agent_age": f"{self.master_config.registry_max_agent_age}secs",
            "simulate_tasks": "" if self.simulate_tasks is None else str(self.simulate_tasks),
        }

    # ---- addressing ------------------------------------------------------------------------

    @property
    def master_url(self) -> str:
        return f"{self.host}:{self.master_config.port}"

    def agent(self, agent_id: str) -> Agent:
        for agent in self.agents:
            if agent.agent_id == agent_id:
                return agent
        raise KeyError(agent_id)

    def track_process(self, pid: int) -> None:
        with self._lock:
            self.spawned_pids.add(pid)

    def pending_status_updates(self) -> list[dict[str, Any]]:
        """Updates the agents still wait to have acknowledged (tests settle on this being empty)."""
        with self._lock:
            return [status for agent in self.agents for status in agent.sum.pending()]

    def live_process_groups(self) -> list[int]:
        """Process groups this cluster started that still have a live member."""
        return [pid for pid in sorted(self.spawned_pids) if group_alive(pid)]

    # ---- fault injection (also POST /faults/<name>) -------------------------------------------

    def add_agent(self, resources: str | None = None) -> Agent:
        """One more agent, with the cluster's resources or its own (``cpus:8;mem:8192;…``)."""
        total = (
            Resources.parse(resources) if resources else self.total
        )  # a bad text: ValueError, nothing added
        with self._lock:
            index = next(self._agent_seq)
            agent = Agent(
                f"{self.master.master_id}-S{index}",
                total,
                self.attributes,
                self.agent_config,
                self.master,
                self.timers,
                self._lock,
                self.track_process,
            )
            agent.start()
            self.agents.append(agent)
            self.master.add_agent(agent)
        return agent

    def remove_agent(self, agent_id: str) -> None:
        """The agent unregisters and dies: RESCIND, TASK_LOST, slaveLost; its executors are killed."""
        with self._lock:
            agent = self.agent(agent_id)
            agent.removed = True
            self.master.remove_agent(agent_id)
            self.agents.remove(agent)
        agent.stop(wait=0.0)

    def crash_agent(self, agent_id: str) -> None:
        """The agent's machine dies: its executors and tasks die with it, no update of theirs arrives
        and the agent never re-registers. A master that has it registered sees its connection go
        (``Master::exited``: unreachable after ``agent_reregister_timeout``); a master that only
        recovered it from its registry finds out when that timeout ends (issue #18)."""
        with self._lock:
            agent = self.agent(agent_id)
            connected = not agent.partitioned and self.master.connected_agent(agent_id) is agent
            agent.partitioned = agent.removed = True
            self.agents.remove(agent)
            if connected:
                self.master.disconnect_agent(agent_id)
        agent.stop(wait=0.0)

    def partition_agent(self, agent_id: str) -> None:
        """Cut the agent off the master: TASK_UNREACHABLE/TASK_LOST, executors keep running."""
        with self._lock:
            agent = self.agent(agent_id)
            if agent.partitioned:
                return
            agent.partitioned = True
            self.master.mark_unreachable(agent_id)

    def mark_gone(self, agent_id: str) -> None:
        """An operator marks the agent gone: TASK_GONE_BY_OPERATOR, slaveLost; it shuts down for good."""
        with self._lock:
            agent = self.agent(agent_id)
            agent.removed = True
            self.master.mark_gone(agent_id)
            self.agents.remove(agent)
        agent.stop(wait=0.0)

    def disconnect_agent(self, agent_id: str) -> None:
        """The agent's connection breaks: registered but cut off until it heals or
        ``agent_reregister_timeout`` marks it unreachable; kills meanwhile are remembered."""
        with self._lock:
            agent = self.agent(agent_id)
            if agent.partitioned:
                return
            agent.partitioned = True
            self.master.disconnect_agent(agent_id)

    def heal_agent(self, agent_id: str) -> None:
        """The agent re-registers with what it still runs; held updates flow again."""
        with self._lock:
            agent = self.agent(agent_id)
            if not agent.partitioned:
                return
            agent.partitioned = False
            self.master.add_agent(agent)
            agent.flush_updates()

    def kill_executor(self, executor_id: str, framework_id: str | None = None) -> int:
        """SIGKILL an executor's process group (a crash); returns its PID."""
        with self._lock:
            for agent in self.agents:
                for (fid, eid), executor in agent.executors.items():
                    if eid == executor_id and framework_id in (None, fid) and executor.pid:
                        kill_group(executor.pid)
                        return executor.pid
        raise KeyError(executor_id)

    def drop_scheduler_stream(self, framework_id: str | None = None) -> int:
        """Close scheduler event streams; pymesos re-subscribes with its framework ID."""
        with self._lock:
            return self.master.drop_streams(framework_id)

    def restart_master(self, keep_away: str | None = None) -> str:
        """Master failover in place: state lost, agents re-register; returns the new master ID.

        ``keep_away``: comma-separated agent IDs (or ``*``) that do not re-register: cut off until
        healed. With the persistent registry they are *recovered* (reconciliation of their tasks
        answers nothing until ``agent_reregister_timeout``); without it they are unknown."""
        with self._lock:
            if keep_away == "*":
                away = {agent.agent_id for agent in self.agents}
            else:
                away = {a.strip() for a in (keep_away or "").split(",") if a.strip()}
            for agent_id in away:
                self.agent(agent_id)
            self.master.restart(away)
            master_id = self.master.master_id
            info = self.master.master_info()
        if self._zk is not None:
            self._zk.register(info)
        return master_id

    def start_maintenance(self, agent_id: str) -> None:
        """Schedule maintenance now: frameworks using the agent get INVERSE_OFFERS."""
        with self._lock:
            self.agent(agent_id)
            maintenance.start_maintenance(self.master, agent_id)

    def end_maintenance(self, agent_id: str) -> None:
        with self._lock:
            self.agent(agent_id)
            maintenance.end_maintenance(self.master, agent_id)

    def redirect(self, to: str | None = None) -> None:
        """Act as a standby: answer 307 to ``to`` (``host:port``); ``None`` leads again."""
        with self._lock:
            self.master.redirect_to = to or None
            self.master.no_leader = False
            if to:
                self.master.drop_streams()

    def lose_leadership(self) -> None:
        """No master leads (an election in progress): scheduler calls answer 503."""
        with self._lock:
            self.master.redirect_to = None
            self.master.no_leader = True
            self.master.drop_streams()
