"""The master: frameworks, their event streams, task bookkeeping, and the agents it knows.

Everything here runs under the cluster's one re-entrant lock (``self.lock``): agents and master
live in one process and call each other directly where real Mesos would send libprocess
messages, and one lock keeps those hand-offs free of ordering bugs. Nothing blocking happens
under it: events go into :class:`EventStream` queues and processes are spawned by agent threads.
Framework lifecycle lives in :mod:`frameworks`, agent membership in :mod:`membership`, offers in
:mod:`offers`, call handling in :mod:`scheduler_api`, ``/state`` in :mod:`state`.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import frameworks, membership, offers
from .agent_registry import AgentRegistry
from .records import TERMINAL_STATES, ExecutorRecord, Framework, Task
from .resources import Resources
from .streams import EventStream
from .timers import TimerHandle, TimerQueue

if TYPE_CHECKING:
    from .agent import Agent

logger = logging.getLogger(__name__)


@dataclass
class MasterConfig:
    host: str = "127.0.0.1"
    port: int = 0
    hostname: str = "localhost"
    heartbeat_interval: float = 15.0
    allocation_interval: float = 1.0
    offer_timeout: float | None = None
    # Mesos's default and minimum is 10 minutes; shorter here so tests can see it end
    agent_reregister_timeout: float = 600.0
    registry_gc_interval: float = 900.0  # Mesos's defaults: 15 minutes, two weeks, 102400
    registry_max_agent_age: float = 14 * 24 * 3600.0
    registry_max_agent_count: int = 102400
    flags: dict[str, str] = field(default_factory=dict)


class Master:
    def __init__(
        self,
        config: MasterConfig,
        timers: TimerQueue,
        lock: threading.RLock,
        registry: AgentRegistry | None = None,
    ) -> None:
        self.config = config
        self.registry = registry or AgentRegistry("in_memory", Path("."))
        self.timers = timers
        self.lock = lock
        self.start_time = time.time()
        self.redirect_to: str | None = None  # standby mode: answer 307 to this leader
        self.no_leader = False  # no master leads: answer 503
        self.agents: dict[str, Agent] = {}
        self._allocation_pending = False
        self.reset()

    def reset(self) -> None:
        """The state a master failover loses (agents and configuration stay)."""
        self.master_id = str(uuid.uuid4())
        self.elected_time = time.time()
        self.frameworks: dict[str, Framework] = {}
        self.completed_frameworks: deque[Framework] = deque(maxlen=50)
        self.removed_framework_ids: set[str] = set()
        self.offers: dict[str, offers.Offer] = {}
        self.inverse_offers: dict[str, offers.InverseOffer] = {}
        self.unreachable: dict[str, float] = {}  # agent ID -> when it was marked unreachable
        self.recovered: dict[str, float] = {}  # from the registry, not re-registered yet
        self.gone: dict[str, float] = {}  # marked gone by an operator
        self.disconnected: set[str] = set()  # registered, connection broken, not yet unreachable
        self.killed_tasks: dict[str, set[tuple[str, str]]] = {}  # kills for disconnected agents
        self.reregister_timers: dict[str, TimerHandle] = {}
        self.maintenance: dict[str, int] = {}
        self.registered_time: dict[str, float] = {}
        self._framework_seq = itertools.count()
        self._offer_seq = itertools.count()

    # ---- ids -------------------------------------------------------------------------------

    def next_framework_id(self) -> str:
        return f"{self.master_id}-{next(self._framework_seq):04d}"

    def next_offer_id(self) -> str:
        return f"{self.master_id}-O{next(self._offer_seq)}"

    def reachable_agents(self) -> list[Agent]:
        return [
            agent
            for agent_id, agent in self.agents.items()
            if agent_id not in self.unreachable and agent_id not in self.disconnected
        ]

    def connected_agent(self, agent_id: str) -> Agent | None:
        """The agent if it is registered and its connection is up (calls reach it)."""
        if agent_id in self.unreachable or agent_id in self.disconnected:
            return None
        return self.agents.get(agent_id)

    @property
    def address(self) -> str:
        return f"{self.config.host}:{self.config.port}"

    def master_info(self) -> dict[str, Any]:
        ip_parts = [int(p) for p in self.config.host.split(".")] if self.config.host.count(".") == 3 else []
        ip_int = int.from_bytes(bytes(ip_parts), "little") if ip_parts else 0
        return {
            "id": self.master_id,
            "ip": ip_int,
            "port": self.config.port,
            "pid": f"master@{self.address}",
            "hostname": self.config.hostname,
            "version": "1.11.0",
            "address": {"hostname": self.config.hostname, "ip": self.config.host, "port": self.config.port},
        }

    # ---- frameworks (bodies in frameworks.py) ------------------------------------------------

    def subscribe(
        self, info: dict[str, Any], framework_id: str | None, suppressed_roles: list[str] | None = None
    ) -> EventStream:
        return frameworks.subscribe(self, info, framework_id, suppressed_roles or [])

    def drop_streams(self, framework_id: str | None = None) -> int:
        return frameworks.drop_streams(self, framework_id)

    def remove_framework(self, framework: Framework) -> None:
        frameworks.remove_framework(self, framework)

    # ---- tasks and status updates ----------------------------------------------------------

    def add_task(self, framework: Framework, task: Task) -> None:
        framework.tasks[task.task_id] = task

    def status_received(self, agent_id: str, framework_id: str, status: dict[str, Any]) -> None:
        """An agent accepted a new update: the master's latest state (and resources) follow it."""
        framework = self.frameworks.get(framework_id)
        if framework is None:
            return
        task = framework.tasks.get(status["task_id"]["value"])
        if task is not None and task.agent_id == agent_id:
            task.state = status["state"]
            task.status_message = status.get("message")
            # A finished task's resources are offered again by the next batch allocation (every
            # allocation_interval), as a real master's allocator recovers them; no allocation round
            # per terminal update: each round walks every task, so thousands of tasks ending
            # together kept the cluster lock busy and slowed everything down (2,000 simulated tasks
            # then took over 10 s; now ~2.5 s).

    def forward_update(self, agent_id: str, framework_id: str, status: dict[str, Any]) -> bool:
        """Send an agent's outstanding update to the scheduler; False if the framework is gone."""
        framework = self.frameworks.get(framework_id)
        if framework is None:
            return framework_id not in self.removed_framework_ids
        task = framework.tasks.get(status["task_id"]["value"])
        if task is not None:
            task.status_update_state = status["state"]
            # As a Mesos master does: a status of the same state as the latest one replaces it, so
            # an update the agent sends again (no acknowledgement yet) is listed once.
            if task.statuses and task.statuses[-1]["state"] == status["state"]:
                task.statuses.pop()
            task.statuses.append(
                {"state": status["state"], "timestamp": status.get("timestamp", time.time())}
            )
        if framework.connected:
            framework.send({"type": "UPDATE", "update": {"status": status}})
        return True

    def send_master_update(self, framework: Framework, status: dict[str, Any]) -> None:
        """Master-generated updates (errors, reconciliation, lost agents) carry no uuid: no ack."""
        framework.send({"type": "UPDATE", "update": {"status": status}})

    def task_acknowledged(self, framework_id: str, task_id: str, state: str) -> None:
        framework = self.frameworks.get(framework_id)
        if framework is None or state not in TERMINAL_STATES:
            return
        task = framework.tasks.pop(task_id, None)
        if task is not None:
            framework.completed_tasks.append(task)

    def acknowledge(self, framework: Framework, agent_id: str, task_id: str, status_uuid: str) -> None:
        agent = self.connected_agent(agent_id)
        if agent is None:
            logger.debug("ack for %s on unknown or unreachable agent %s dropped", task_id, agent_id)
            return
        agent.acknowledge(framework.framework_id, task_id, status_uuid)

    def executor_exited(self, agent_id: str, framework_id: str, executor_id: str, wait_status: int) -> None:
        framework = self.frameworks.get(framework_id)
        if framework is None:
            return
        framework.executors.pop((agent_id, executor_id), None)
        framework.send(
            {
                "type": "FAILURE",
                "failure": {
                    "agent_id": {"value": agent_id},
                    "executor_id": {"value": executor_id},
                    "status": wait_status,
                },
            }
        )
        self.request_allocation()

    def executor_message(self, agent_id: str, framework_id: str, executor_id: str, data: str) -> None:
        framework = self.frameworks.get(framework_id)
        if framework is None:
            return
        framework.send(
            {
                "type": "MESSAGE",
                "message": {
                    "agent_id": {"value": agent_id},
                    "executor_id": {"value": executor_id},
                    "data": data,
                },
            }
        )

    # ---- agents (bodies in membership.py) ----------------------------------------------------

    def add_agent(self, agent: Agent) -> None:
        membership.add_agent(self, agent)

    def remove_agent(self, agent_id: str) -> None:
        membership.remove_agent(self, agent_id)

    def mark_unreachable(self, agent_id: str) -> None:
        membership.mark_unreachable(self, agent_id)

    def mark_gone(self, agent_id: str) -> None:
        membership.mark_gone(self, agent_id)

    def disconnect_agent(self, agent_id: str) -> None:
        membership.disconnect(self, agent_id)

    def restart(self, keep_away: set[str] | None = None) -> None:
        membership.restart(self, keep_away or set())

    def recover(self) -> None:
        membership.recover(self)

    # ---- accounting ------------------------------------------------------------------------

    def used_on(self, agent_id: str, framework: Framework | None = None) -> Resources:
        frameworks = [framework] if framework is not None else list(self.frameworks.values())
        items = [
            t.resources
            for fw in frameworks
            for t in fw.tasks.values()
            if t.agent_id == agent_id and t.state not in TERMINAL_STATES
        ]
        items += [
            r.resources for fw in frameworks for (a_id, _), r in fw.executors.items() if a_id == agent_id
        ]
        return Resources.total(items)

    def executor_charged(self, framework: Framework, agent_id: str, executor_id: str) -> bool:
        return (agent_id, executor_id) in framework.executors

    def charge_executor(
        self, framework: Framework, agent_id: str, info: dict[str, Any], res: Resources
    ) -> None:
        framework.executors[(agent_id, info["executor_id"]["value"])] = ExecutorRecord(info, agent_id, res)

    def used_by_agent(self) -> dict[str, Resources]:
        """One pass over all tasks and executors (allocation rounds must stay O(tasks))."""
        parts: dict[str, list[Resources]] = {}
        for fw in self.frameworks.values():
            for task in fw.tasks.values():
                if task.state not in TERMINAL_STATES:
                    parts.setdefault(task.agent_id, []).append(task.resources)
            for (agent_id, _), record in fw.executors.items():
                parts.setdefault(agent_id, []).append(record.resources)
        return {agent_id: Resources.total(items) for agent_id, items in parts.items()}

    def request_allocation(self) -> None:
        """An allocation round soon; many requests before it runs coalesce into one."""
        if not self._allocation_pending:
            self._allocation_pending = True
            self.timers.call_soon(self.allocate)

    def allocate(self) -> None:
        with self.lock:
            self._allocation_pending = False
            offers.allocate(self)
