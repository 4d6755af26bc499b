"""Runs that can never launch: no agent, even idle, holds what they need (issue #12).

The bounds on ``cpuCount``/``memoryMB`` are what the largest machines have, not what this cluster's
agents have, so a job may be registered that no agent of this cluster can run. Its runs would wait
forever, silently. This module decides, from the TOTAL resources of every agent the master knows,
whether a run could be placed on an empty cluster under the rules of ``matching``: each shard needs
its job's cpus/mem, plus, once per agent, its app's executor (unless it runs under the command
executor); a run launches all its shards in one round or none. A run that fails this can only start
when a bigger agent joins, so it is marked "unschedulable" (logged once, shown in the API), and the
mark goes when the agents change or the run does.

Only totals can prove "never": what agents offer now says nothing of what they hold when idle. With
no agent known, nothing is marked (no agent is not a property of a job).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from .matching import EPSILON

Totals = Mapping[str, tuple[float, float]]  # agent id → (cpus, mem) the agent holds in all


@dataclass(frozen=True)
class Shape:
    """What one run needs: ``shards`` equal shards of ``cpus``/``mem`` each, and the executor's own
    ``executor_cpus``/``executor_mem`` once on each agent that runs any of them (0 for command tasks)."""

    cpus: float
    mem: float
    shards: int = 1
    executor_cpus: float = 0.0
    executor_mem: float = 0.0

    @property
    def first_cpus(self) -> float:
        """The first shard on an agent, with the executor it starts there."""
        return self.cpus + self.executor_cpus

    @property
    def first_mem(self) -> float:
        return self.mem + self.executor_mem


@dataclass(frozen=True)
class Unfit:
    """A run that no agent set of this size can hold, and the facts an operator needs to see why."""

    job_name: str
    shape: Shape
    largest_cpus: float  # the most cpus one agent holds
    largest_mem: float  # the most memory one agent holds
    agents: int  # how many agents the totals cover
    holdable: int  # how many of the run's shards all agents together could hold

    @property
    def reason(self) -> str:
        shape = self.shape
        need = f"{_num(shape.cpus)} cpus and {_num(shape.mem)} MB per shard"
        if shape.executor_cpus or shape.executor_mem:
            need += (
                f" (plus {_num(shape.executor_cpus)} cpus and {_num(shape.executor_mem)} MB for the app's"
                " executor on each agent)"
            )
        largest = (
            f"the largest of {self.agents} agent(s) holds {_num(self.largest_cpus)} cpus"
            f" and {_num(self.largest_mem)} MB in all"
        )
        if self.holdable == 0:
            return f"no agent can hold one shard: it needs {need}; {largest}"
        return (
            f"the run's {shape.shards} shards must start together but all agents together can hold"
            f" only {self.holdable}: it needs {need}; {largest}"
        )

    def as_dict(self) -> dict[str, object]:
        """The API's view (``GET /api/job/tasks/unschedulable``)."""
        return {
            "jobName": self.job_name,
            "reason": self.reason,
            "shards": self.shape.shards,
            "cpuCount": self.shape.cpus,
            "memoryMB": self.shape.mem,
            "executorCpuCount": self.shape.executor_cpus,
            "executorMemoryMB": self.shape.executor_mem,
            "largestAgentCpus": self.largest_cpus,
            "largestAgentMemoryMB": self.largest_mem,
            "agents": self.agents,
        }


def capacity(shape: Shape, cpus: float, mem: float) -> int:
    """How many of the run's shards one idle agent of ``cpus``/``mem`` can hold (at most all)."""
    if shape.first_cpus > cpus + EPSILON or shape.first_mem > mem + EPSILON:
        return 0
    more = shape.shards - 1
    for free, each in ((cpus - shape.first_cpus, shape.cpus), (mem - shape.first_mem, shape.mem)):
        if each > EPSILON:  # a shard that needs none of a resource is not bounded by it
            more = min(more, math.floor((free + EPSILON) / each))
    return 1 + more


def holdable(shape: Shape, totals: Totals) -> int:
    """How many of the run's shards all agents together hold (stops counting at ``shards``)."""
    held = 0
    for cpus, mem in totals.values():
        held += capacity(shape, cpus, mem)
        if held >= shape.shards:
            return shape.shards
    return held


def unfit(job_name: str, shape: Shape, totals: Totals, held: int | None = None) -> Unfit | None:
    """The run's ``Unfit`` when the agents of ``totals`` can never hold it (``held``: its
    ``holdable`` count when known); None when they can, or when no agent is known."""
    if not totals:
        return None
    held = holdable(shape, totals) if held is None else held
    if held >= shape.shards:
        return None
    return Unfit(
        job_name,
        shape,
        max(cpus for cpus, _ in totals.values()),
        max(mem for _, mem in totals.values()),
        len(totals),
        held,
    )


class Marks:
    """The unschedulable jobs, kept from round to round so each is reported once when it is first
    seen and once when it clears. Pure: the caller logs what ``update`` returns."""

    def __init__(self, totals: Totals | None = None) -> None:
        self.totals: dict[str, tuple[float, float]] = dict(totals or {})
        self.marked: dict[str, Unfit] = {}
        self._held: dict[Shape, int] = {}  # shape → its ``holdable`` count, once per shape per totals

    def set_totals(self, totals: Totals) -> None:
        if dict(totals) != self.totals:
            self.totals = dict(totals)
            self._held.clear()

    def update(
        self, runs: Iterable[tuple[str, Shape]], mark_new: bool = True
    ) -> tuple[list[Unfit], list[str]]:
        """Judge this round's pending runs ``(job, shape)``: the jobs newly unschedulable, and those
        whose mark went (their runs fit now, were taken, or are gone). A job with several pending
        runs is marked by the first that cannot fit. Without ``mark_new`` (the totals may lack an
        agent) marks only go or stay."""
        found: dict[str, Unfit] = {}
        for job_name, shape in runs:
            if job_name in found or not self.totals or not (mark_new or job_name in self.marked):
                continue
            held = self._held.get(shape)
            if held is None:
                held = self._held[shape] = holdable(shape, self.totals)
            mark = unfit(job_name, shape, self.totals, held)
            if mark is not None:
                found[job_name] = mark
        new = [mark for name, mark in found.items() if name not in self.marked]
        cleared = sorted(name for name in self.marked if name not in found)
        self.marked = found
        return new, cleared


def _num(value: float) -> str:
    return f"{value:g}"
