"""Agent membership as the master sees it: registration, removal, partitions, master restart.

A (re-)registering agent reports its frameworks, executors and tasks (its ``snapshot``); the
master rebuilds its view from that, which is how a healed partition and a restarted master get
their tasks back. Losing an agent turns its tasks into TASK_LOST / TASK_GONE / TASK_UNREACHABLE
updates (no uuid, from the master) and a FAILURE without ``executor_id`` (``slaveLost``).
Callers hold the cluster lock.
"""

from __future__ import annotations

import functools
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
    """An agent registers, or re-registers (healed, reconnected, or after a master failover).

    A re-registering agent that the master had not recovered from its registry (it was unreachable
    or unknown) gets its tasks' current states sent to connected frameworks with
    ``REASON_SLAVE_REREGISTERED`` (``master.cpp``, ``Master::__reregisterSlave``); kills the
    master remembered while it was disconnected are applied (``Master::kill``, ``killedTasks``).
    """
    agent_id = agent.agent_id
    was_recovered = master.recovered.pop(agent_id, None) is not None
    was_unreachable = master.unreachable.pop(agent_id, None) is not None
    known = agent_id in master.agents and not was_unreachable
    timer = master.reregister_timers.pop(agent_id, None)
    if timer is not None:
        timer.cancel()
    master.disconnected.discard(agent_id)
    master.agents[agent_id] = agent
    master.registered_time[agent_id] = time.time()
    master.registry.set(agent_id, "admitted", time.time())
    _recover_from_agent(master, agent)
    if not was_recovered and not known:
        _announce_reregistered(master, agent, was_unreachable)
    for framework_id, task_id in master.killed_tasks.pop(agent_id, set()):
        agent.kill_task(framework_id, task_id)
    master.request_allocation()


def _announce_reregistered(master: Master, agent: Agent, was_unreachable: bool) -> None:
    message = "Unreachable agent re-reregistered" if was_unreachable else "Unknown agent reregistered"
    for framework in master.frameworks.values():
        if not framework.connected:
            continue
        for task in [t for t in framework.tasks.values() if t.agent_id == agent.agent_id]:
            master.send_master_update(
                framework,
                make_status(
                    task.task_id,
                    task.state,
                    agent.agent_id,
                    "SOURCE_MASTER",
                    executor_id=task.executor_id,
                    reason="REASON_SLAVE_REREGISTERED",
                    message=message,
                    with_uuid=False,
                ),
            )


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


def _lose_agent_tasks(
    master: Master,
    agent_id: str,
    state_if_aware: str,
    message: str,
    *,
    reason: str = "REASON_SLAVE_REMOVED",
    unreachable_time: float | None = None,
) -> None:
    """The agent's tasks end (or become unreachable) with an update each, then ``slaveLost``.

    Every task the master still holds gets the update, also one that reached a terminal state whose
    update the framework has not acknowledged (``Master::_removeSlave`` / ``__removeSlave`` walk
    ``slave->tasks``, which keeps such a task; ``updateTask`` leaves its terminal state as it is):
    an update the agent had not forwarded yet is gone with it."""
    keep = state_if_aware == "TASK_UNREACHABLE"
    for framework in master.frameworks.values():
        aware = framework.partition_aware
        state = state_if_aware if aware else "TASK_LOST"
        task_reason = reason if aware else "REASON_SLAVE_REMOVED"
        pools = [framework.tasks] if keep else [framework.tasks, framework.unreachable_tasks]
        for task in [t for pool in pools for t in pool.values() if t.agent_id == agent_id]:
            for pool in pools:
                pool.pop(task.task_id, None)
            if task.state not in TERMINAL_STATES:
                task.state = state
            task.status_update_state = state
            if framework.connected:
                master.send_master_update(
                    framework,
                    make_status(
                        task.task_id,
                        state,
                        agent_id,
                        "SOURCE_MASTER",
                        executor_id=task.executor_id,
                        reason=task_reason,
                        message=message,
                        with_uuid=False,
                        unreachable_time=unreachable_time,
                    ),
                )
            if keep:
                framework.unreachable_tasks[task.task_id] = task
            else:
                framework.completed_tasks.append(task)
        for key in [k for k in framework.executors if k[0] == agent_id]:
            framework.executors.pop(key)
    send_agent_lost(master, agent_id)


def send_agent_lost(master: Master, agent_id: str) -> None:
    """``slaveLost``: a FAILURE event without ``executor_id`` to every connected framework."""
    for framework in master.frameworks.values():
        if framework.connected:
            framework.send({"type": "FAILURE", "failure": {"agent_id": {"value": agent_id}}})


def _forget(master: Master, agent_id: str) -> None:
    offers.remove_agent_offers(master, agent_id)
    master.agents.pop(agent_id, None)
    master.maintenance.pop(agent_id, None)
    master.disconnected.discard(agent_id)
    master.killed_tasks.pop(agent_id, None)
    timer = master.reregister_timers.pop(agent_id, None)
    if timer is not None:
        timer.cancel()


def remove_agent(master: Master, agent_id: str) -> None:
    """The agent unregistered (or another took its address): RESCIND, TASK_LOST, slaveLost.

    TASK_LOST even for partition-aware frameworks (``master.cpp``, ``Master::_removeSlave``); the
    agent leaves the registry, so later reconciliation of its tasks answers TASK_UNKNOWN.
    """
    agent = master.agents.get(agent_id)
    hostname = agent.hostname if agent is not None else agent_id
    offers.remove_agent_offers(master, agent_id)
    _lose_agent_tasks(master, agent_id, "TASK_LOST", f"Agent {hostname} removed: agent unregistered")
    _forget(master, agent_id)
    master.unreachable.pop(agent_id, None)
    master.recovered.pop(agent_id, None)
    master.registry.remove(agent_id)


def mark_gone(master: Master, agent_id: str) -> None:
    """An operator marked the agent gone (``MARK_AGENT_GONE``, ``Master::markGone``): tasks of a
    registered or unreachable agent become TASK_GONE_BY_OPERATOR (REASON_SLAVE_REMOVED_BY_OPERATOR;
    TASK_LOST for frameworks that are not partition-aware); a recovered agent's tasks, unknown to
    the master, get nothing. The agent is told to shut down and may never come back."""
    now = time.time()
    message = "Agent has been marked gone"
    if agent_id in master.recovered:
        master.recovered.pop(agent_id)
    elif agent_id in master.unreachable:
        master.unreachable.pop(agent_id)
        for framework in master.frameworks.values():
            aware = framework.partition_aware
            for task in [t for t in framework.unreachable_tasks.values() if t.agent_id == agent_id]:
                framework.unreachable_tasks.pop(task.task_id)
                task.state = task.status_update_state = "TASK_GONE_BY_OPERATOR" if aware else "TASK_LOST"
                framework.completed_tasks.append(task)
                if framework.connected:
                    master.send_master_update(
                        framework,
                        make_status(
                            task.task_id,
                            task.state,
                            agent_id,
                            "SOURCE_MASTER",
                            executor_id=task.executor_id,
                            reason="REASON_SLAVE_REMOVED_BY_OPERATOR" if aware else "REASON_SLAVE_REMOVED",
                            message=message,
                            with_uuid=False,
                        ),
                    )
    elif agent_id in master.agents:
        offers.remove_agent_offers(master, agent_id)
        _lose_agent_tasks(
            master, agent_id, "TASK_GONE_BY_OPERATOR", message, reason="REASON_SLAVE_REMOVED_BY_OPERATOR"
        )
    _forget(master, agent_id)
    master.gone[agent_id] = now
    master.registry.set(agent_id, "gone", now)


def mark_unreachable(master: Master, agent_id: str, during_failover: bool = False) -> None:
    """The agent failed its health checks, or did not re-register in time (``Master::markUnreachable``).

    A registered agent's tasks become TASK_UNREACHABLE with ``unreachable_time`` (TASK_LOST if not
    partition-aware), then ``slaveLost``. A *recovered* agent that did not re-register within
    ``agent_reregister_timeout`` after a master failover produces ``slaveLost`` only: the master
    has no task of it (``MasterTest.UnreachableTaskAfterFailover``).
    """
    now = time.time()
    offers.remove_agent_offers(master, agent_id)
    timer = master.reregister_timers.pop(agent_id, None)
    if timer is not None:
        timer.cancel()
    master.disconnected.discard(agent_id)
    master.unreachable[agent_id] = now
    master.registry.set(agent_id, "unreachable", now)
    if during_failover:
        master.recovered.pop(agent_id, None)
        send_agent_lost(master, agent_id)
        return
    _lose_agent_tasks(
        master,
        agent_id,
        "TASK_UNREACHABLE",
        f"Agent {agent_id} is unreachable",
        unreachable_time=now,
    )


def disconnect(master: Master, agent_id: str) -> None:
    """The agent's connection broke: it stays registered (no offers) for ``agent_reregister_timeout``,
    then is marked unreachable (``Master::exited``); kills meanwhile are remembered."""
    offers.remove_agent_offers(master, agent_id)
    master.disconnected.add(agent_id)
    master.reregister_timers[agent_id] = master.timers.call_later(
        master.config.agent_reregister_timeout, lambda: _reregister_timeout(master, agent_id, False)
    )


def _reregister_timeout(master: Master, agent_id: str, during_failover: bool) -> None:
    with master.lock:
        master.reregister_timers.pop(agent_id, None)
        if during_failover and agent_id in master.recovered:
            logger.info("agent %s did not reregister after master failover: unreachable", agent_id)
            mark_unreachable(master, agent_id, during_failover=True)
        elif not during_failover and agent_id in master.disconnected:
            logger.info("agent %s did not reregister after disconnecting: unreachable", agent_id)
            mark_unreachable(master, agent_id)


def restart(master: Master, keep_away: set[str]) -> None:
    """Master failover in place: all in-memory state lost, streams closed; the registry (if
    persistent) gives back the agents it admitted as *recovered* and the unreachable and gone ones;
    every agent not in ``keep_away`` and not partitioned re-registers at once."""
    for framework in master.frameworks.values():
        if framework.failover_timer is not None:
            framework.failover_timer.cancel()
        if framework.stream is not None:
            framework.stream.close_quietly()
    for offer in master.offers.values():
        if offer.timer is not None:
            offer.timer.cancel()
    for timer in master.reregister_timers.values():
        timer.cancel()
    returning = [
        a
        for a_id, a in master.agents.items()
        if a_id not in master.unreachable and a_id not in master.disconnected and a_id not in keep_away
    ]
    for a_id, agent in master.agents.items():
        if a_id in keep_away:
            agent.partitioned = True
    master.reset()
    master.agents = {}
    recover(master)
    for agent in returning:
        add_agent(master, agent)
    logger.info("master restarted with id %s", master.master_id)


def recover(master: Master) -> None:
    """A starting master reads its registry: admitted agents are recovered (timer started),
    unreachable and gone ones are remembered as such."""
    master.registry.load()
    master.unreachable.update(master.registry.with_state("unreachable"))
    master.gone.update(master.registry.with_state("gone"))
    for agent_id in master.registry.with_state("admitted"):
        master.recovered[agent_id] = time.time()
        master.reregister_timers[agent_id] = master.timers.call_later(
            master.config.agent_reregister_timeout,
            functools.partial(_reregister_timeout, master, agent_id, True),
        )
