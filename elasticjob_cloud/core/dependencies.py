"""Job dependencies (issue #17), the pure part: the graph, its checks and the edge rules.

A job lists its upstream jobs in ``dependsOn``; a run of it is queued when, since its last run
queued this way, a run of *each* upstream completed, all shards, according to its
``dependencyPolicy``:

* ``ALL_SUCCEEDED`` (default): every shard of the upstream run finished successfully. A failed
  upstream run does not count: the downstream waits for a later successful run of that upstream.
* ``ALL_DONE``: every shard of the upstream run ended, whatever the outcome.

"Completed" means no shard of that run will run again: a shard queued for a retry or a failover is
not done yet. The state of each edge lives in ZooKeeper (``registry.dependencies``); this module
only decides. Edges: ``upstream → downstream`` means the downstream depends on the upstream.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

MAX_UPSTREAMS = 100  # dependsOn entries of one job
# A Quartz cron that the original accepts and that never fires before 2099: what a job with
# dependencies and no cron of its own is stored with, so the original still reads its record.
NEVER_CRON = "0 0 0 1 1 ? 2099"


class DependencyPolicy(enum.StrEnum):
    ALL_SUCCEEDED = "ALL_SUCCEEDED"
    ALL_DONE = "ALL_DONE"


class EdgeState(enum.StrEnum):
    WAITING = "WAITING"  # no upstream run completed since the downstream was last queued
    SATISFIED = "SATISFIED"  # an upstream run completed as the policy asks
    FAILED = "FAILED"  # the last upstream run failed (ALL_SUCCEEDED): waiting for a successful one


Graph = Mapping[str, Sequence[str]]  # job → its upstreams (its ``dependsOn``)


def downstreams(graph: Graph, job: str) -> list[str]:
    """The jobs that list ``job`` in their ``dependsOn``, sorted."""
    return sorted(name for name, ups in graph.items() if job in ups)


def all_dependents(graph: Graph, jobs: Iterable[str]) -> list[str]:
    """Every job that depends on one of ``jobs``, directly or through others (not ``jobs``), sorted."""
    start = set(jobs)
    reverse: dict[str, set[str]] = {}
    for name, ups in graph.items():
        for up in ups:
            reverse.setdefault(up, set()).add(name)
    found: set[str] = set()
    todo = list(start)
    while todo:
        for child in reverse.get(todo.pop(), ()):
            if child not in found and child not in start:
                found.add(child)
                todo.append(child)
    return sorted(found)


def ancestors(graph: Graph, jobs: Iterable[str]) -> set[str]:
    """``jobs`` and every job they depend on, directly or not."""
    found: set[str] = set()
    todo = list(jobs)
    while todo:
        name = todo.pop()
        if name not in found:
            found.add(name)
            todo.extend(graph.get(name, ()))
    return found


def find_cycle(graph: Graph, job: str) -> list[str] | None:
    """A cycle through ``job`` as ``[job, …, job]`` (each depends on the next), or None."""
    path: list[str] = [job]
    seen: set[str] = set()

    def walk(name: str) -> bool:
        for up in sorted(graph.get(name, ())):
            if up == job:
                path.append(up)
                return True
            if up in seen:
                continue
            seen.add(up)
            path.append(up)
            if walk(up):
                return True
            path.pop()
        return False

    return path if walk(job) else None


def describe_cycle(cycle: Sequence[str]) -> str:
    return " → ".join(cycle)


@dataclass(frozen=True)
class RunOutcome:
    """How a completed run of an upstream ended: every shard succeeded or not."""

    succeeded: bool


def edge_after(outcome: RunOutcome, policy: DependencyPolicy) -> EdgeState:
    """The state of an edge once a run of its upstream completed with ``outcome``."""
    if outcome.succeeded or policy is DependencyPolicy.ALL_DONE:
        return EdgeState.SATISFIED
    return EdgeState.FAILED


def all_satisfied(upstreams: Sequence[str], edges: Mapping[str, EdgeState]) -> bool:
    """Whether a downstream with these upstreams may run: every edge satisfied."""
    return bool(upstreams) and all(edges.get(up) is EdgeState.SATISFIED for up in upstreams)


def graph_view(graph: Graph) -> dict[str, list[dict[str, str]]]:
    """``{"nodes": [{"id"}], "edges": [{"from", "to"}]}`` of every job (edges upstream → downstream)."""
    nodes = [{"id": name} for name in sorted(graph)]
    edges = [{"from": up, "to": name} for name in sorted(graph) for up in graph[name]]
    return {"nodes": nodes, "edges": edges}
