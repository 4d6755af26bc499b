"""Offers and task requests → a launch plan (which shard goes to which agent, which offers to use).

Rules: each shard needs its job's cpus/mem; a custom executor's cost (the app's cpus/mem) is
charged once per app per agent where that executor does not run yet (the original's issue #322:
placement that ignored it overcommitted agents). A READY run launches all its shards in one round
or none of them; a FAILOVER shard stands alone and avoids the agent it failed on when it can.
Shards are spread over the agents with the most free cpus, so one agent loss hurts least.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .models import TaskType

EPSILON = 1e-9


@dataclass(frozen=True)
class ShardRequest:
    job_name: str
    sharding_item: int
    task_type: TaskType
    app_name: str
    cpus: float
    mem: float
    uses_executor: bool = True  # False for tasks under the Mesos command executor
    avoid_agent: str | None = None


@dataclass(frozen=True)
class RunRequest:
    """Shards that launch together or not at all."""

    shards: tuple[ShardRequest, ...]


@dataclass
class AgentOffers:
    """Everything one agent currently offers us (several offers are summed)."""

    agent_id: str
    hostname: str
    offer_ids: list[str]
    cpus: float
    mem: float
    executor_apps: set[str] = field(default_factory=set)  # apps whose executor runs there already


@dataclass(frozen=True)
class Placement:
    shard: ShardRequest
    agent_id: str
    hostname: str


@dataclass
class LaunchPlan:
    placements: list[Placement]
    unplaced: list[RunRequest]
    used_offer_ids: dict[str, list[str]]  # agent id → offer ids to ACCEPT
    unused_offer_ids: list[str]  # to DECLINE


def scalar(resources: Iterable[Mapping[str, Any]], name: str) -> float:
    return sum(float(r.get("scalar", {}).get("value", 0.0)) for r in resources if r.get("name") == name)


def group_offers(
    offers: Iterable[Mapping[str, Any]], app_of_executor: Callable[[str], str | None]
) -> list[AgentOffers]:
    """Mesos offer dicts → one ``AgentOffers`` per agent. ``app_of_executor(id) -> app | None``."""
    agents: dict[str, AgentOffers] = {}
    for offer in offers:
        agent_id = offer["agent_id"]["value"]
        agent = agents.setdefault(agent_id, AgentOffers(agent_id, offer.get("hostname", ""), [], 0.0, 0.0))
        agent.offer_ids.append(offer["id"]["value"])
        agent.cpus += scalar(offer.get("resources", []), "cpus")
        agent.mem += scalar(offer.get("resources", []), "mem")
        for executor in offer.get("executor_ids", []) or []:
            app = app_of_executor(executor["value"])
            if app:
                agent.executor_apps.add(app)
    return list(agents.values())


def match(
    runs: Sequence[RunRequest],
    agents: Sequence[AgentOffers],
    executor_cost: Mapping[str, tuple[float, float]],
) -> LaunchPlan:
    """Place runs in the order given (callers put FAILOVER shards first)."""
    free = {a.agent_id: [a.cpus, a.mem] for a in agents}
    charged = {a.agent_id: set(a.executor_apps) for a in agents}
    by_id = {a.agent_id: a for a in agents}
    placements: list[Placement] = []
    unplaced: list[RunRequest] = []
    for run in runs:
        # Only a run of several shards can be left half placed and need undoing; most runs in a
        # round are one shard each, and copying every agent's state per run cost more than placing.
        several = len(run.shards) > 1
        saved_free = {k: list(v) for k, v in free.items()} if several else free
        saved_charged = {k: set(v) for k, v in charged.items()} if several else charged
        placed: list[Placement] = []
        for shard in run.shards:
            agent_id = _best_agent(shard, free, charged, executor_cost)
            if agent_id is None:
                break
            cpus, mem = _need(shard, agent_id, charged, executor_cost)
            free[agent_id][0] -= cpus
            free[agent_id][1] -= mem
            if shard.uses_executor:
                charged[agent_id].add(shard.app_name)
            placed.append(Placement(shard, agent_id, by_id[agent_id].hostname))
        if len(placed) == len(run.shards):
            placements.extend(placed)
        else:
            free, charged = saved_free, saved_charged
            unplaced.append(run)
    used_agents = {p.agent_id for p in placements}
    return LaunchPlan(
        placements=placements,
        unplaced=unplaced,
        used_offer_ids={a.agent_id: list(a.offer_ids) for a in agents if a.agent_id in used_agents},
        unused_offer_ids=[o for a in agents if a.agent_id not in used_agents for o in a.offer_ids],
    )


def _need(
    shard: ShardRequest,
    agent_id: str,
    charged: Mapping[str, set[str]],
    cost: Mapping[str, tuple[float, float]],
) -> tuple[float, float]:
    cpus, mem = shard.cpus, shard.mem
    if shard.uses_executor and shard.app_name not in charged[agent_id]:
        extra = cost.get(shard.app_name, (0.0, 0.0))
        cpus, mem = cpus + extra[0], mem + extra[1]
    return cpus, mem


def _best_agent(
    shard: ShardRequest,
    free: Mapping[str, list[float]],
    charged: Mapping[str, set[str]],
    cost: Mapping[str, tuple[float, float]],
) -> str | None:
    fitting = []
    for agent_id, (cpus, mem) in free.items():
        need_cpus, need_mem = _need(shard, agent_id, charged, cost)
        if need_cpus <= cpus + EPSILON and need_mem <= mem + EPSILON:
            fitting.append((agent_id == shard.avoid_agent, -(cpus - need_cpus), agent_id))
    return min(fitting)[2] if fitting else None
