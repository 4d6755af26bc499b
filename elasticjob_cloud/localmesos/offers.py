"""The allocator and the offer lifecycle: OFFERS, ACCEPT/LAUNCH, DECLINE, filters, RESCIND.

Allocation is deliberately simple and documented as such: every round, each agent's free
resources (total - used by tasks and executors - outstanding offers) go as *one* offer to the
connected, unsuppressed framework with the lowest dominant share that has no refuse filter
covering them. That keeps the observable rules schedulers depend on (offers carry only free
resources, single-use IDs, refuse_seconds, SUPPRESS/REVIVE, rescind) without Mesos's sorter.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .maintenance import rescind_inverse
from .records import Filter, Framework, InverseOffer, Offer, Task, make_status
from .resources import Resources

if TYPE_CHECKING:
    from .master import Master

logger = logging.getLogger(__name__)

DEFAULT_REFUSE_SECONDS = 5.0
MAX_REFUSE_SECONDS = 365 * 24 * 3600.0

__all__ = ["InverseOffer", "Offer", "accept", "allocate", "decline"]


def _framework_usage(master: Master, framework: Framework) -> Resources:
    items = [t.resources for t in framework.tasks.values()]
    items += [r.resources for r in framework.executors.values()]
    items += [o.resources for o in master.offers.values() if o.framework_id == framework.framework_id]
    return Resources.total(items)


def _share(used: Resources, totals: Resources) -> float:
    shares = [used.scalars.get(n, 0.0) / totals.scalars[n] for n in ("cpus", "mem") if totals.scalars.get(n)]
    return max(shares, default=0.0)


def _filtered(framework: Framework, agent_id: str, free: Resources, now: float) -> bool:
    filters = [f for f in framework.filters.get(agent_id, []) if f.expires > now]
    framework.filters[agent_id] = filters
    return any(f.resources.contains(free) for f in filters)


def add_filter(framework: Framework, agent_id: str, resources: Resources, filters: Any) -> None:
    refuse = DEFAULT_REFUSE_SECONDS
    if isinstance(filters, dict) and "refuse_seconds" in filters:
        refuse = float(filters["refuse_seconds"])
    if refuse < 0:  # the allocator uses the default for a negative value (hierarchical.cpp)
        refuse = DEFAULT_REFUSE_SECONDS
    if refuse == 0 or resources.is_empty():
        return
    expires = time.monotonic() + min(refuse, MAX_REFUSE_SECONDS)
    framework.filters.setdefault(agent_id, []).append(Filter(resources, expires))


def offer_json(master: Master, offer: Offer, framework: Framework) -> dict[str, Any]:
    agent = master.agents[offer.agent_id]
    executor_ids = sorted(eid for (a_id, eid) in framework.executors if a_id == offer.agent_id)
    return {
        "id": {"value": offer.offer_id},
        "framework_id": {"value": offer.framework_id},
        "agent_id": {"value": offer.agent_id},
        "hostname": agent.hostname,
        "url": agent.url_json(),
        "resources": offer.resources.to_mesos(framework.role),
        "attributes": agent.attributes,
        "executor_ids": [{"value": eid} for eid in executor_ids],
        "allocation_info": {"role": framework.role},
    }


def allocate(master: Master) -> None:
    """One allocation round (see module docstring)."""
    candidates = [fw for fw in master.frameworks.values() if fw.connected and not fw.suppressed]
    if not candidates:
        return
    now = time.monotonic()
    reachable = sorted(master.reachable_agents(), key=lambda a: a.agent_id)
    totals = Resources.total(a.total for a in reachable)
    usage = {fw.framework_id: _framework_usage(master, fw) for fw in candidates}
    shares = {fid: _share(used, totals) for fid, used in usage.items()}
    used = master.used_by_agent()
    for offer in master.offers.values():
        used[offer.agent_id] = used.get(offer.agent_id, Resources()) + offer.resources  # few offers
    batches: dict[str, list[dict[str, Any]]] = {}
    for agent in reachable:
        free = agent.total - used.get(agent.agent_id, Resources())
        if free.is_empty():
            continue
        for framework in sorted(candidates, key=lambda fw: (shares[fw.framework_id], fw.registered_time)):
            if _filtered(framework, agent.agent_id, free, now):
                continue
            offer = Offer(master.next_offer_id(), framework.framework_id, agent.agent_id, free)
            master.offers[offer.offer_id] = offer
            if master.config.offer_timeout:
                offer.timer = master.timers.call_later(
                    master.config.offer_timeout, _expirer(master, offer.offer_id)
                )
            batches.setdefault(framework.framework_id, []).append(offer_json(master, offer, framework))
            usage[framework.framework_id] = usage[framework.framework_id] + free
            shares[framework.framework_id] = _share(usage[framework.framework_id], totals)
            break
    for fid, offer_list in batches.items():
        master.frameworks[fid].send({"type": "OFFERS", "offers": {"offers": offer_list}})


def _expirer(master: Master, offer_id: str) -> Callable[[], None]:
    def expire() -> None:
        with master.lock:
            offer = master.offers.get(offer_id)
            if offer is not None:
                rescind(master, offer)

    return expire


def _discard(master: Master, offer: Offer) -> None:
    master.offers.pop(offer.offer_id, None)
    if offer.timer is not None:
        offer.timer.cancel()


def rescind(master: Master, offer: Offer) -> None:
    _discard(master, offer)
    framework = master.frameworks.get(offer.framework_id)
    if framework is not None:
        framework.send({"type": "RESCIND", "rescind": {"offer_id": {"value": offer.offer_id}}})


def remove_agent_offers(master: Master, agent_id: str) -> None:
    for offer in [o for o in master.offers.values() if o.agent_id == agent_id]:
        rescind(master, offer)
    for inverse in [o for o in master.inverse_offers.values() if o.agent_id == agent_id]:
        rescind_inverse(master, inverse)


def remove_framework_offers(master: Master, framework: Framework) -> None:
    """The framework's offers go back without RESCIND (it is gone or re-subscribing)."""
    for offer in [o for o in master.offers.values() if o.framework_id == framework.framework_id]:
        _discard(master, offer)


def _take_offers(
    master: Master, framework: Framework, offer_ids: list[str]
) -> tuple[list[Offer], str | None]:
    """Remove the offers named in a call; an error if any is unknown, foreign or mixed-agent."""
    taken: list[Offer] = []
    error = None
    for offer_id in offer_ids:
        offer = master.offers.get(offer_id)
        if offer is None or offer.framework_id != framework.framework_id:
            error = f"Offer {offer_id} is no longer valid"
            continue
        if taken and offer.agent_id != taken[0].agent_id:
            error = "Aggregated offers must belong to one agent"
        _discard(master, offer)
        taken.append(offer)
    if not offer_ids:
        error = "No offers specified"
    return taken, error


def decline(master: Master, framework: Framework, body: dict[str, Any]) -> None:
    offer_ids = [o["value"] for o in body.get("offer_ids", [])]
    for offer in _take_offers(master, framework, offer_ids)[0]:
        add_filter(framework, offer.agent_id, offer.resources, body.get("filters"))


def _error(
    master: Master, framework: Framework, info: dict[str, Any], state: str, reason: str, msg: str
) -> None:
    agent_id = (info.get("agent_id") or {}).get("value")
    status = make_status(
        str((info.get("task_id") or {}).get("value", "")),
        state,
        agent_id,
        "SOURCE_MASTER",
        reason=reason,
        message=msg,
        with_uuid=False,
    )
    master.send_master_update(framework, status)


def _task_error(framework: Framework, agent_id: str, info: dict[str, Any], seen: set[str]) -> str | None:
    task_id = str(info["task_id"]["value"])
    if not task_id or "/" in task_id or task_id in (".", ".."):
        return f"Task ID {task_id!r} is invalid"
    if task_id in seen or task_id in framework.tasks:
        return f"Task {task_id} has duplicate ID"
    if info["agent_id"]["value"] != agent_id:
        return f"Task uses agent {info['agent_id']['value']} but the offers are for agent {agent_id}"
    if ("executor" in info) == ("command" in info):
        return "Task should have at least one (but not both) of CommandInfo or ExecutorInfo present"
    executor = info.get("executor")
    if executor is not None:
        eid = str((executor.get("executor_id") or {}).get("value", ""))
        if not eid or "/" in eid or eid in (".", ".."):
            return f"Executor ID {eid!r} is invalid"
        fid = (executor.get("framework_id") or {}).get("value")
        if fid is not None and fid != framework.framework_id:
            return "ExecutorInfo has an invalid FrameworkID"
    return None


def _same_executor(existing: dict[str, Any], new: dict[str, Any]) -> bool:
    """ExecutorInfo equality as the master checks it: every field, resources as a multiset."""
    strip = ("resources",)
    if {k: v for k, v in existing.items() if k not in strip} != {
        k: v for k, v in new.items() if k not in strip
    }:
        return False
    try:
        return Resources.from_mesos(existing.get("resources", [])) == Resources.from_mesos(
            new.get("resources", [])
        )
    except (ValueError, KeyError, TypeError):
        return False


def _incompatible(existing: dict[str, Any], new: dict[str, Any]) -> str:
    """The master's message for a task whose executor differs from the running one with its ID
    (``validation.cpp``, ``validateCompatibleExecutorInfo``)."""
    rule = "------------------------------------------------------------\n"
    return (
        "ExecutorInfo is not compatible with existing ExecutorInfo with same ExecutorID.\n"
        f"{rule}Existing ExecutorInfo:\n{json.dumps(existing, sort_keys=True)}\n"
        f"{rule}ExecutorInfo:\n{json.dumps(new, sort_keys=True)}\n{rule}"
    )


def accept(master: Master, framework: Framework, body: dict[str, Any]) -> None:
    """ACCEPT: consume the offers, run LAUNCH operations, refuse the rest for refuse_seconds."""
    offer_ids = [o["value"] for o in body.get("offer_ids", [])]
    taken, error = _take_offers(master, framework, offer_ids)
    operations = body.get("operations", [])
    launches = [
        info for op in operations if op.get("type") == "LAUNCH" for info in op["launch"]["task_infos"]
    ]
    if error is not None:
        state = "TASK_DROPPED" if framework.partition_aware else "TASK_LOST"
        for info in launches:
            _error(master, framework, info, state, "REASON_INVALID_OFFERS", error)
        return
    agent_id = taken[0].agent_id
    agent = master.agents[agent_id]
    pool = Resources.total(o.resources for o in taken)
    seen: set[str] = set()
    for op in operations:
        kind = op.get("type")
        if kind == "LAUNCH":
            for info in op["launch"]["task_infos"]:
                pool = _launch(master, framework, agent, pool, info, seen)
        elif kind == "LAUNCH_GROUP":
            for info in op["launch_group"]["task_group"].get("tasks", []):
                _error(
                    master,
                    framework,
                    info,
                    "TASK_ERROR",
                    "REASON_TASK_GROUP_INVALID",
                    "LAUNCH_GROUP unsupported",
                )
        else:
            logger.warning(
                "framework %s: operation %s is not emulated; ignored", framework.framework_id, kind
            )
    add_filter(framework, agent_id, pool, body.get("filters"))


def _launch(
    master: Master, framework: Framework, agent: Any, pool: Resources, info: dict[str, Any], seen: set[str]
) -> Resources:
    error = _task_error(framework, agent.agent_id, info, seen)
    try:
        task_res = Resources.from_mesos(info.get("resources", []))
        executor = info.get("executor")
        exec_res = Resources.from_mesos(executor.get("resources", [])) if executor else Resources()
    except (ValueError, KeyError, TypeError) as exc:
        error = error or f"Task uses invalid resources: {exc}"
    if error is not None:
        _error(master, framework, info, "TASK_ERROR", "REASON_TASK_INVALID", error)
        return pool
    needed = task_res
    eid = ""
    if executor is not None:
        executor = dict(executor)
        executor["framework_id"] = {"value": framework.framework_id}
        eid = executor["executor_id"]["value"]
        existing = framework.executors.get((agent.agent_id, eid))
        if existing is not None and not _same_executor(existing.info, executor):
            _error(
                master,
                framework,
                info,
                "TASK_ERROR",
                "REASON_TASK_INVALID",
                _incompatible(existing.info, executor),
            )
            return pool
        if existing is None:
            needed = needed + exec_res
    if not pool.contains(needed):
        msg = f"Task uses more resources {needed.to_state()} than available {pool.to_state()}"
        _error(master, framework, info, "TASK_ERROR", "REASON_TASK_INVALID", msg)
        return pool
    pool = pool - needed
    seen.add(info["task_id"]["value"])
    info = dict(info)
    if executor is not None:
        info["executor"] = executor
        if not master.executor_charged(framework, agent.agent_id, eid):
            master.charge_executor(framework, agent.agent_id, executor, exec_res)
    task = Task(info, framework.framework_id, agent.agent_id, eid, task_res)
    master.add_task(framework, task)
    agent.launch(framework.info, info, task_res)
    return pool
