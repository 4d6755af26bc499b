"""Job dependencies in ZooKeeper (issue #17): the owner of ``/state/dependencies`` and
``/state/run_outcomes``, and the one transaction that turns a completed upstream run into
downstream runs.

Nodes (additions the original never reads):

* ``/state/run_outcomes/{job}/{item}`` = ``{"taskId", "ok", "at"}``: how the shard's last task of a job
  that others depend on ended (a retry or a failover of the shard overwrites it: the last end
  counts). Written by the engine in the same batch, *before* the delete of the task's
  ``/state/running`` record, so a leader dying in between leaves the running record (the next leader
  reconciles the task and writes the outcome again) and never an ended task without its outcome.
* ``/state/dependencies/{job}`` = ``{"edges": {upstream: {"state", "at"}}, "queued", "queuedAt"}``:
  the state of each edge into a job that has ``dependsOn``.

A run of an upstream is complete when it has outcomes, no task recorded as running and no shard
queued for a failover or a retry (a shard that will run again is not done). ``complete_run`` then
commits, in ONE transaction guarded by the leader's election node (the engine's tree is fenced),
by the absence of every running record and failover entry of the job and by the version of each
downstream's config: the deletes of the outcomes (the run is consumed), each downstream's edge
state, and, for a downstream whose every edge is now satisfied, one more run in its ready counter
(edges back to WAITING). A leader change before the commit leaves the outcomes for the next leader
(it completes such runs when it loads); after it, nothing is left to do twice.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

from ..core import paths
from ..core.dependencies import (
    DependencyPolicy,
    EdgeState,
    RunOutcome,
    all_dependents,
    all_satisfied,
    ancestors,
    describe_cycle,
    downstreams,
    edge_after,
    find_cycle,
)
from ..core.models import JobConfig, TaskId
from ..core.names import shown
from ..core.policies import ConcurrencyPolicy
from ..core.schemas import load_stored_job
from ..exceptions import Conflict, InconsistentChange, InvalidConfig, UnknownReference
from .atomic import absent, transact
from .queued_at import record_op
from .tree import Check, Create, Delete, Op, SetData, Tree

log = logging.getLogger(__name__)

Versioned = dict[str, tuple[JobConfig | None, int] | None]  # job → (config, version) as read


def _json(data: dict[str, Any]) -> bytes:
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode()


def _load(data: bytes | None) -> dict[str, Any]:
    try:
        found = json.loads(data) if data else {}
    except ValueError:
        found = {}
    return found if isinstance(found, dict) else {}


def _graph(configs: Versioned) -> dict[str, tuple[str, ...]]:
    return {name: e[0].policy.depends_on for name, e in configs.items() if e is not None and e[0] is not None}


# ------------------------------------------------------------------ configuration (REST side)


def config_ops(tree: Tree, job: JobConfig, configs: Versioned) -> list[Op]:
    """Registering or updating ``job``: refuses an unknown upstream (``UnknownReference``, a 404
    naming ``dependsOn``, as an unknown ``appName`` is), a DAEMON upstream and a cycle
    (``InconsistentChange``, a 409 naming the cycle: both depend on what is stored); returns the
    guards and writes for the job's transaction: each upstream's config rewritten as read (a
    "touch": a deregistration of it planned before cannot commit), every further ancestor checked
    at its version (a concurrent update closing a cycle cannot commit either), the upstreams'
    outcome folders, and the job's edge record."""
    upstreams = job.policy.depends_on
    record_path = paths.dependency_edges(job.job_name)
    record = tree.get(record_path)
    if not upstreams:
        return [Delete(record_path, record[1])] if record is not None else []
    if job.job_name in upstreams:
        name = job.job_name
        raise InconsistentChange.field("dependsOn", f"would make a cycle: {name} → {name}")
    missing = [up for up in upstreams if configs.get(up) is None or configs[up][0] is None]  # type: ignore[index]
    if missing:
        raise UnknownReference.field(
            "dependsOn", f"unknown upstream job(s): {', '.join(shown(m) for m in missing)}"
        )
    daemons = [up for up in upstreams if configs[up][0].is_daemon]  # type: ignore[index,union-attr]
    if daemons:
        raise InconsistentChange.field(
            "dependsOn", f"DAEMON job(s) {', '.join(daemons)} run all the time: no run of them completes"
        )
    overlapping = [up for up in upstreams if _overlaps(configs[up][0])]  # type: ignore[index,arg-type]
    if overlapping:
        raise InconsistentChange.field(
            "dependsOn",
            f"job(s) {', '.join(overlapping)} have concurrencyPolicy ALLOW: their runs overlap, so which "
            "run completed cannot be told",
        )
    graph = {**_graph(configs), job.job_name: upstreams}
    cycle = find_cycle(graph, job.job_name)
    if cycle is not None:
        raise InconsistentChange.field("dependsOn", f"would make a cycle: {describe_cycle(cycle)}")
    ops: list[Op] = []
    found = tree.get_many([paths.job(up) for up in upstreams])
    for up, node in zip(upstreams, found, strict=True):
        if node is None:
            raise UnknownReference.field("dependsOn", f"unknown upstream job(s): {shown(up)}")
        ops.append(SetData(paths.job(up), node[0], node[1]))
    for name in sorted(ancestors(graph, upstreams) - set(upstreams) - {job.job_name}):
        entry = configs.get(name)
        if entry is not None:
            ops.append(Check(paths.job(name), entry[1]))
    outcome_dirs = [paths.run_outcomes_job(up) for up in upstreams]
    ops += [Create(p) for p, e in zip(outcome_dirs, tree.get_many(outcome_dirs), strict=True) if e is None]
    old = _load(record[0]).get("edges", {}) if record is not None else {}
    edges = {up: old.get(up) or {"state": EdgeState.WAITING.value} for up in upstreams}
    previous = _load(record[0]) if record is not None else {}
    data = _json({**previous, "edges": edges})
    if record is None:
        ops.append(Create(record_path, data))
    elif record[0] != data:
        ops.append(SetData(record_path, data, record[1]))
    return ops


def dependents_to_refuse(removing: list[str], configs: Versioned) -> list[str]:
    """The jobs that depend on ``removing`` (directly or not) and are not being removed themselves."""
    return [name for name in all_dependents(_graph(configs), removing) if name not in removing]


def refuse_if_depended_on(removing: list[str], configs: Versioned) -> None:
    dependents = dependents_to_refuse(removing, configs)
    if dependents:
        listed = ", ".join(dependents[:50]) + (" …" if len(dependents) > 50 else "")
        raise Conflict(
            f"{', '.join(removing)[:200]}: other jobs depend on it: {listed}; deregister them first, "
            "or deregister with ?cascade=true to remove them too"
        )


def _overlaps(job: JobConfig) -> bool:
    return job.policy.concurrency_policy is ConcurrencyPolicy.ALLOW


def upstream_rules_apply(job: JobConfig, current: JobConfig) -> bool:
    """The update makes ``job`` a DAEMON job or gives it ALLOW: only then is it checked for dependents."""
    return (job.is_daemon and not current.is_daemon) or (_overlaps(job) and not _overlaps(current))


def refuse_upstream_change(job: JobConfig, current: JobConfig, configs: Versioned) -> None:
    """A job others depend on cannot become a DAEMON job (no run of it would ever complete) nor
    take ``concurrencyPolicy`` ALLOW (overlapping runs: which one completed cannot be told)."""
    if not upstream_rules_apply(job, current):
        return
    becomes_daemon = job.is_daemon and not current.is_daemon
    dependents = downstreams(_graph(configs), job.job_name)
    if not dependents:
        return
    listed = ", ".join(dependents[:20])
    if becomes_daemon:
        raise InconsistentChange.field(
            "jobExecutionType", f"jobs {listed} depend on it: a DAEMON job's runs never complete"
        )
    raise InconsistentChange.field(
        "concurrencyPolicy", f"jobs {listed} depend on it: with ALLOW its runs would overlap"
    )


def state_ops(tree: Tree, job_names: list[str]) -> list[Op]:
    """Deletes of the dependency nodes of removed jobs (their edge record, their outcomes)."""
    records = [paths.dependency_edges(name) for name in job_names]
    ops: list[Op] = [Delete(p) for p, e in zip(records, tree.get_many(records), strict=True) if e]
    listed = set(tree.children(paths.RUN_OUTCOMES))
    for name in job_names:
        if name in listed:
            folder = paths.run_outcomes_job(name)
            ops += [Delete(f"{folder}/{child}") for child in tree.children(folder)]
            ops.append(Delete(folder))
    return ops


# ------------------------------------------------------------------ the engine's verbs


@dataclass(frozen=True)
class Completion:
    """What ``complete_run`` did: None fields when the run is not complete (or there is none)."""

    succeeded: bool | None = None
    queued: tuple[str, ...] = ()  # downstreams that got a run
    edges: tuple[tuple[str, str], ...] = ()  # (downstream, new edge state)


class DependencyStore:
    def __init__(self, tree: Tree):
        self.tree = tree
        tree.ensure(paths.DEPENDENCIES)
        tree.ensure(paths.RUN_OUTCOMES)

    @staticmethod
    def outcome_op(task_id: str, item: int, succeeded: bool, now: float) -> Op:
        """The end of one task of a job others depend on (written before its running record goes).
        A create: the engine's batch overwrites an earlier outcome of the shard it finds there, as it
        does with a stale running record of a shard."""
        job = TaskId.parse(task_id).job_name
        data = _json({"taskId": task_id, "ok": succeeded, "at": now})
        return Create(paths.run_outcome(job, item), data)

    def jobs_with_outcomes(self) -> list[str]:
        """Jobs whose last run's outcomes are not yet consumed (a new leader completes them)."""
        names = self.tree.children(paths.RUN_OUTCOMES)
        listed = self.tree.children_many([paths.run_outcomes_job(n) for n in names])
        return [name for name, children in zip(names, listed, strict=True) if children]

    def complete_run(self, job: str, downstreams: list[str], now: float) -> Completion:
        """If the job's run is complete: consume it and update (and maybe queue) its downstreams, in
        one guarded transaction; ``Completion()`` when there is nothing to complete yet."""

        def plan() -> tuple[list[Op], Completion]:
            folder = paths.run_outcomes_job(job)
            names = self.tree.children(folder)
            if not names:
                return [], Completion()
            running, failover = self.tree.children_many([paths.running_job(job), paths.failover_job(job)])
            if running or failover:
                return [], Completion()  # a shard still runs or will run again
            config = self._config(job)
            found = self.tree.get_many([f"{folder}/{n}" for n in names])
            ok: dict[int, bool] = {}
            ops: list[Op] = []
            for name, entry in zip(names, found, strict=True):
                if entry is None:
                    continue
                ops.append(Delete(f"{folder}/{name}", entry[1]))
                if name.isdigit():
                    ok[int(name)] = _load(entry[0]).get("ok") is True
            shards = config[0].sharding_total_count if config and config[0] else max(ok, default=-1) + 1
            succeeded = all(ok.get(i, False) for i in range(shards))  # a shard without an end: not ok
            ops += self._idle_guards(job, shards)
            queued: list[str] = []
            edges: list[tuple[str, str]] = []
            for name in downstreams:
                result = self._advance(name, job, RunOutcome(succeeded), now)
                if result is None:
                    continue
                more, state, queue = result
                ops += more
                edges.append((name, state.value))
                if queue:
                    queued.append(name)
            return ops, Completion(succeeded, tuple(queued), tuple(edges))

        return transact(self.tree, plan, f"completing a run of '{job}'")

    def _idle_guards(self, job: str, shards: int) -> list[Op]:
        """Fail the transaction if a task of the job got recorded as running or a shard of it was
        queued to run again since the read (a folder that is absent must stay absent)."""
        ops: list[Op] = []
        folders = (paths.running_job(job), paths.failover_job(job))
        for folder, entry in zip(folders, self.tree.get_many(list(folders)), strict=True):
            if entry is None:
                ops += absent(folder)
                continue
            child = paths.running_task if folder == folders[0] else paths.failover_task
            for item in range(shards):
                ops += absent(child(job, item))
        return ops

    def _config(self, job: str) -> tuple[JobConfig | None, int] | None:
        entry = self.tree.get(paths.job(job))
        if entry is None:
            return None
        try:
            return load_stored_job(json.loads(entry[0])), entry[1]
        except (ValueError, InvalidConfig):
            return None, entry[1]

    def _advance(
        self, name: str, upstream: str, outcome: RunOutcome, now: float
    ) -> tuple[list[Op], EdgeState, bool] | None:
        """One downstream's ops after ``upstream`` completed: its edge, and a run when all are met."""
        config = self._config(name)
        if config is None or config[0] is None or upstream not in config[0].policy.depends_on:
            return None
        job = config[0]
        record_path = paths.dependency_edges(name)
        record = self.tree.get(record_path)
        state = edge_after(outcome, job.policy.dependency_policy)
        data = _load(record[0]) if record is not None else {}
        edges = {up: dict(e) for up, e in data.get("edges", {}).items() if isinstance(e, dict)}
        edges[upstream] = {"state": state.value, "at": now}
        states = {up: e.get("state") for up, e in edges.items()}
        current = {
            up: EdgeState(v) for up, v in states.items() if isinstance(v, str) and v in EdgeState.__members__
        }
        disabled = self.tree.get_many([paths.disabled_job(name), paths.disabled_app(job.app_name)])
        queue = all_satisfied(job.policy.depends_on, current) and not any(disabled)
        ops: list[Op] = [Check(paths.job(name), config[1])]
        if queue:
            ready = self.tree.get(paths.ready(name))
            count = _next_count(ready, job.misfire)
            counter = str(count).encode()
            ops.append(
                Create(paths.ready(name), counter)
                if ready is None
                else SetData(paths.ready(name), counter, ready[1])
            )
            if job.policy.starting_deadline_seconds is not None:  # when it was queued (core.queued_at)
                instants = self.tree.get(paths.ready_queued_at(name))
                ops += [op for op in [record_op(name, ready, instants, count, now)] if op is not None]
            edges = {up: {"state": EdgeState.WAITING.value, "at": now} for up in job.policy.depends_on}
            data["queued"] = int(data.get("queued", 0)) + 1
            data["queuedAt"] = now
        data["edges"] = edges
        encoded = _json(data)
        ops.append(
            Create(record_path, encoded) if record is None else SetData(record_path, encoded, record[1])
        )
        return ops, state, queue

    # ------------------------------------------------------------------ views
    def edges_of(self, job: str) -> dict[str, Any]:
        """The job's edge record: ``{"edges": {upstream: {"state", "at"}}, "queued", "queuedAt"}``."""
        found = self.tree.get(paths.dependency_edges(job))
        return _load(found[0]) if found is not None else {}

    def pending_outcomes(self, job: str) -> int:
        """Shard ends recorded for the job's current run (0: no run of it under way or ended)."""
        return self.tree.child_count(paths.run_outcomes_job(job))


def _next_count(current: tuple[bytes, int] | None, misfire: bool) -> int:
    """As a cron fire: with misfire the runs add up, else one pending run."""
    if current is None or not misfire:
        return 1
    try:
        return int(current[0].decode().strip() or "0") + 1
    except ValueError:
        return 1


__all__ = [
    "Completion",
    "DependencyPolicy",
    "DependencyStore",
    "config_ops",
    "dependents_to_refuse",
    "refuse_if_depended_on",
    "state_ops",
]
