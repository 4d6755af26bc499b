"""``GET /state`` for the master and for agents, in real Mesos field shapes.

Schedulers read these (the original reads the master's frameworks/executors/slaves and each
agent's ``flags.work_dir`` plus executor ``directory`` for sandbox lookup), so field names and
value types follow Mesos 1.11 (resources as ``{"cpus": 4.0, "ports": "[31000-32000]"}``, times
as float seconds, agent ``pid`` as ``slave(1)@ip:port``). Callers hold the cluster lock.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .httpbase import VERSION
from .records import Framework, Task
from .resources import Resources, attributes_state

if TYPE_CHECKING:
    from .agent import Agent
    from .executors import Executor
    from .master import Master

AGENT_CAPABILITIES = ["MULTI_ROLE", "HIERARCHICAL_ROLE", "RESERVATION_REFINEMENT", "TASK_NO_EXECUTOR"]


def _task(task: Task) -> dict[str, Any]:
    info = task.info
    result: dict[str, Any] = {
        "id": task.task_id,
        "name": info.get("name", ""),
        "framework_id": task.framework_id,
        "executor_id": task.executor_id,
        "slave_id": task.agent_id,
        "state": task.state,
        "resources": task.resources.to_state(),
        "role": "*",
        "statuses": list(task.statuses),
    }
    for key in ("labels", "discovery", "container", "health_check", "kill_policy"):
        if key in info:
            result[key] = info[key]
    return result


def _framework(master: Master, fw: Framework) -> dict[str, Any]:
    info = fw.info
    used = Resources.total(
        [t.resources for t in fw.tasks.values()] + [r.resources for r in fw.executors.values()]
    )
    offers = [o for o in master.offers.values() if o.framework_id == fw.framework_id]
    offered = Resources.total(o.resources for o in offers)
    return {
        "id": fw.framework_id,
        "name": info.get("name", ""),
        "user": info.get("user", ""),
        "hostname": info.get("hostname", ""),
        "webui_url": info.get("webui_url", ""),
        "principal": info.get("principal", ""),
        "role": fw.role,
        "roles": info.get("roles") or [fw.role],
        "failover_timeout": float(info.get("failover_timeout") or 0.0),
        "checkpoint": bool(info.get("checkpoint", False)),
        "capabilities": [c.get("type") for c in info.get("capabilities") or []],
        "active": fw.connected and not fw.suppressed,
        "connected": fw.connected,
        "recovered": fw.recovered,
        "registered_time": fw.registered_time,
        "reregistered_time": fw.registered_time,
        "unregistered_time": fw.unregistered_time,
        "resources": (used + offered).to_state(),
        "used_resources": used.to_state(),
        "offered_resources": offered.to_state(),
        "tasks": [_task(t) for t in fw.tasks.values()],
        "unreachable_tasks": [_task(t) for t in fw.unreachable_tasks.values()],
        "completed_tasks": [_task(t) for t in fw.completed_tasks],
        "offers": [
            {
                "id": o.offer_id,
                "framework_id": o.framework_id,
                "slave_id": o.agent_id,
                "resources": o.resources.to_state(),
            }
            for o in offers
        ],
        "executors": [
            {
                "executor_id": record.info["executor_id"]["value"],
                "name": record.info.get("name", ""),
                "framework_id": fw.framework_id,
                "command": record.info.get("command", {}),
                "resources": record.resources.to_state(),
                "slave_id": agent_id,
                "directory": _directory(master, agent_id, fw.framework_id, eid) or record.directory,
            }
            for (agent_id, eid), record in fw.executors.items()
        ],
    }


def _directory(master: Master, agent_id: str, framework_id: str, executor_id: str) -> str:
    agent = master.agents.get(agent_id)
    executor = agent.executors.get((framework_id, executor_id)) if agent else None
    return str(executor.directory) if executor else ""


def agents_state(master: Master) -> list[dict[str, Any]]:
    """The master's ``slaves`` entries (``/state`` and ``/master/slaves`` list the same)."""
    slaves = []
    used_by_agent = master.used_by_agent()  # one pass over all tasks, not one per agent
    offered_parts: dict[str, list[Resources]] = {}
    for offer in master.offers.values():
        offered_parts.setdefault(offer.agent_id, []).append(offer.resources)
    for agent_id, agent in sorted(master.agents.items()):
        used = used_by_agent.get(agent_id, Resources())
        offered = Resources.total(offered_parts.get(agent_id, []))
        slaves.append(
            {
                "id": agent_id,
                "pid": agent.pid,
                "hostname": agent.hostname,
                "port": agent.port,
                "registered_time": master.registered_time.get(agent_id, agent.start_time),
                "resources": agent.total.to_state(),
                "used_resources": used.to_state(),
                "offered_resources": offered.to_state(),
                "reserved_resources": {},
                "unreserved_resources": agent.total.to_state(),
                "attributes": attributes_state(agent.attributes),
                "active": agent_id not in master.unreachable and agent_id not in master.disconnected,
                "deactivated": False,
                "version": VERSION,
                "capabilities": AGENT_CAPABILITIES,
            }
        )
    return slaves


def master_state(master: Master) -> dict[str, Any]:
    slaves = agents_state(master)
    address = master.address
    return {
        "version": VERSION,
        "git_sha": "",
        "build_user": "localmesos",
        "start_time": master.start_time,
        "elected_time": master.elected_time,
        "id": master.master_id,
        "pid": f"master@{address}",
        "hostname": master.config.hostname,
        "leader": f"master@{address}" if master.redirect_to is None else f"master@{master.redirect_to}",
        "leader_info": master.master_info(),
        "activated_slaves": sum(1 for s in slaves if s["active"]),
        "deactivated_slaves": 0,
        "unreachable_slaves": len(master.unreachable),
        "flags": dict(master.config.flags),
        "slaves": slaves,
        "frameworks": [_framework(master, fw) for fw in master.frameworks.values()],
        "completed_frameworks": [_framework(master, fw) for fw in master.completed_frameworks],
        "orphan_tasks": [],
        "unregistered_frameworks": [],
    }


def _agent_task(agent: Agent, key: tuple[str, str]) -> dict[str, Any]:
    task = agent.tasks[key]
    record = Task(task.info, task.framework_id, agent.agent_id, task.executor_id, Resources(), task.state)
    result = _task(record)
    result["resources"] = agent.resources_of.get(key, Resources()).to_state()
    return result


def _executor(agent: Agent, executor: Executor) -> dict[str, Any]:
    fid = executor.framework_id
    return {
        "id": executor.executor_id,
        "name": executor.info.get("name", ""),
        "source": executor.info.get("source", ""),
        "container": executor.container_id,
        "directory": str(executor.directory),
        "type": "COMMAND" if executor.command_task else "CUSTOM",
        "role": "*",
        "resources": Resources.from_mesos(executor.info.get("resources", [])).to_state(),
        "tasks": [_agent_task(agent, (fid, t)) for t in executor.launched if (fid, t) in agent.tasks],
        "queued_tasks": [_agent_task(agent, (fid, t)) for t in executor.queued if (fid, t) in agent.tasks],
        "completed_tasks": [
            {"id": t["task_id"]["value"], "name": t.get("name", "")} for t in executor.completed
        ],
    }


def agent_state(agent: Agent) -> dict[str, Any]:
    frameworks = []
    for fid, info in agent.frameworks.items():
        frameworks.append(
            {
                "id": fid,
                "name": info.get("name", ""),
                "user": info.get("user", ""),
                "hostname": info.get("hostname", ""),
                "role": info.get("role", "*"),
                "failover_timeout": float(info.get("failover_timeout") or 0.0),
                "checkpoint": bool(info.get("checkpoint", False)),
                "executors": [_executor(agent, e) for (f, _), e in agent.executors.items() if f == fid],
                "completed_executors": [
                    _executor(agent, e) for e in agent.completed_executors if e.framework_id == fid
                ],
            }
        )
    return {
        "version": VERSION,
        "build_user": "localmesos",
        "start_time": agent.start_time,
        "id": agent.agent_id,
        "pid": agent.pid,
        "hostname": agent.hostname,
        "resources": agent.total.to_state(),
        "attributes": attributes_state(agent.attributes),
        "master_hostname": agent.master.config.hostname,
        "capabilities": AGENT_CAPABILITIES,
        "flags": {
            "work_dir": str(agent.config.work_dir),
            "port": str(agent.port),
            "hostname": agent.hostname,
            "executor_shutdown_grace_period": f"{agent.config.grace_period}secs",
            "executor_registration_timeout": f"{agent.config.executor_registration_timeout}secs",
            "master": agent.master.address,
            "simulate_tasks": str(agent.config.simulate_tasks)
            if agent.config.simulate_tasks is not None
            else "",
        },
        "frameworks": frameworks,
        "completed_frameworks": [],
    }
