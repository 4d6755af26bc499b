"""Agent membership as the master sees it: registration, removal, partitions, master restart.

A (re-)registering agent reports its frameworks, executors and tasks (its ``snapshot``); the
master rebuilds its view from that, which is how a healed partition and a restarted master get
their tasks back. Losing an agent turns its tasks into TASK_LOST / TASK_GONE / TASK_UNREACHABLE
updates (no uuid, from the master) and a FAILURE without ``executor_id`` (``slaveLost``).
Callers hold the cluster lock.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

from . import offers
from .records import TERMINAL_STATES, ExecutorRecord, Framework, Task, make_status
from .resources import Resources

if TYPE_CHECKING:
    from .agent import Agent
    from .master import Master

logger = logging.getLogger(__name__)


def add_agent(master: Master, agent: Agent) -> None:
    master.agents[agent.agent_id] = agent
    master.registered_time[agent.agent_id] = time.time()
    master.unreachable.pop(agent.agent_id, None)
    _recover_from_agent(master, agent)
    master.request_allocation()


def _recover_from_agent(master: Master, agent: Agent) -> None:
    """(Re-)registration: the agent reports its frameworks, executors and tasks."""
    for known in master.frameworks.values():
        for key in [k for k in known.executors if k[0] == agent.agent_id]:
            known.executors.pop(key)
    for fid, info, executors, tasks in _snapshot(agent):
        framework = master.frameworks.get(fid)
        if framework is None:
            if fid in master.removed_framework_ids:
                agent.shutdown_framework(fid)
                continue
            framework = Framework(fid, dict(info), time.time(), recovered=True)
            master.frameworks[fid] = framework
        for record in executors:
            framework.executors[(agent.agent_id, record.info["executor_id"]["value"])] = record
        for task in tasks:
            framework.unreachable_tasks.pop(task.task_id, None)
            framework.tasks[task.task_id] = task


def _snapshot(agent: Agent) -> list[tuple[str, dict[str, Any], list[ExecutorRecord], list[Task]]]:
    """What a (re-)registering agent tells the master: frameworks, executors, tasks."""
    result = []
    for fid, info in agent.frameworks.items():
        records = [
            ExecutorRecord(
                e.info, agent.agent_id, Resources.from_mesos(e.info.get("resources", [])), str(e.directory)
            )
            for (f, _), e in agent.executors.items()
            if f == fid and not e.command_task and e.state != "terminated"
        ]
        tasks = [
            Task(
                t.info,
                fid,
                agent.agent_id,
                "" if "command" in t.info else t.executor_id,
                agent.resources_of.get(key, Resources()),
                state=t.state,
            )
            for key, t in agent.tasks.items()
            if key[0] == fid
        ]
        result.append((fid, info, records, tasks))
    return result


def _lose_agent_tasks(master: Master, agent_id: str, state_if_aware: str, message: str, keep: bool) -> None:
    for framework in master.frameworks.values():
        state = state_if_aware if framework.partition_aware else "TASK_LOST"
        pools = [framework.tasks] if keep else [framework.tasks, framework.unreachable_tasks]
        for task in [t for pool in pools for t in pool.values() if t.agent_id == agent_id]:
            for pool in pools:
                pool.pop(task.task_id, None)
            if task.state not in TERMINAL_STATES:
                task.state = state
                master.send_master_update(
                    framework,
                    make_status(
                        task.task_id,
                        state,
                        agent_id,
                        "SOURCE_MASTER",
                        executor_id=task.executor_id,
                        reason="REASON_SLAVE_REMOVED",
                        message=message,
                        with_uuid=False,
                    ),
                )
            if keep:
                framework.unreachable_tasks[task.task_id] = task
            else:
                framework.completed_tasks.append(task)
        for key in [k for k in framework.executors if k[0] == agent_id]:
            framework.executors.pop(key)
        framework.send({"type": "FAILURE", "failure": {"agent_id": {"value": agent_id}}})


def remove_agent(master: Master, agent_id: str) -> None:
    """The agent is gone for good: RESCIND its offers, TASK_GONE/LOST, slaveLost."""
    offers.remove_agent_offers(master, agent_id)
    _lose_agent_tasks(master, agent_id, "TASK_GONE", f"Agent {agent_id} removed", keep=False)
    master.agents.pop(agent_id, None)
    master.unreachable.pop(agent_id, None)
    master.maintenance.pop(agent_id, None)


def mark_unreachable(master: Master, agent_id: str) -> None:
    offers.remove_agent_offers(master, agent_id)
    master.unreachable[agent_id] = time.time()
    _lose_agent_tasks(master, agent_id, "TASK_UNREACHABLE", f"Agent {agent_id} is unreachable", keep=True)


def restart(master: Master) -> None:
    """Master failover in place: all state lost, streams closed, agents re-register."""
    for framework in master.frameworks.values():
        if framework.failover_timer is not None:
            framework.failover_timer.cancel()
        if framework.stream is not None:
            framework.stream.close_quietly()
    for offer in master.offers.values():
        if offer.timer is not None:
            offer.timer.cancel()
    agents = master.reachable_agents()
    unreachable = [a for a_id, a in master.agents.items() if a_id in master.unreachable]
    master.reset()
    master.agents = {}
    for agent in agents:
        add_agent(master, agent)
    for agent in unreachable:  # still partitioned: known, but its tasks unknown until it heals
        master.agents[agent.agent_id] = agent
        master.unreachable[agent.agent_id] = time.time()
    logger.info("master restarted with id %s", master.master_id)
