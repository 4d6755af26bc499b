"""The stores of ``core.ports``, written once over the ``Tree`` seam (ZooKeeper or memory).

Layout and JSON are the original's (``core.paths``, ``core.schemas``), so its data reads back.
Apps and jobs are ``registry.config``; multi-node changes are plans over one read committed with
guards from it (``registry.atomic``). A mark that belongs to a job or app (disable mark, trigger,
failover entry) is created with a check that the job or app exists in the same transaction, so none
is left behind by a deregistration that commits first.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from typing import Any

from ..core import paths
from ..core.models import DELIMITER, JobConfig, TaskId
from ..core.ports import FailoverEntry, RunningEntry
from ..core.queued_at import QueuedCounter
from ..core.schemas import load_stored_job
from ..exceptions import AlreadyExists, Conflict, NotFound, QueueFull
from .atomic import transact
from .config import ConfigStore, decode, encode_json
from .queued_at import counter_value as _to_int
from .queued_at import read_counters, record_op
from .tree import Check, Create, Delete, Op, SetData, Tree

__all__ = [
    "ConfigStore",
    "DisableStore",
    "FailoverQueue",
    "FrameworkIdStore",
    "ReadyQueue",
    "RunningStore",
    "encode_json",
]

log = logging.getLogger(__name__)


def _parse_item(child: str, job_name: str) -> int | None:
    prefix = f"{job_name}{DELIMITER}"
    if not child.startswith(prefix):
        return None
    try:
        return int(child[len(prefix) :])
    except ValueError:
        return None


class _CountedChildren:
    """A parent node whose child count is capped by ``job_state_queue_size``."""

    def __init__(self, tree: Tree, root: str, limit: int):
        self.tree, self.root, self.limit = tree, root, limit
        tree.ensure(root)

    def refuse_if_full(self, what: str, adding: int = 0) -> None:
        """Raise QueueFull when the root (plus ``adding`` entries about to be created) is at the limit."""
        if self.tree.child_count(self.root) + adding >= self.limit:
            log.warning("%s refused: %s holds %s entries (job_state_queue_size)", what, self.root, self.limit)
            raise QueueFull(f"{what} refused: {self.root} is full (job_state_queue_size={self.limit})")


class DisableStore:
    def __init__(self, tree: Tree, queue_size: int = 10000):
        self.tree = tree
        self._apps = _CountedChildren(tree, paths.DISABLE_APP, queue_size)
        self._jobs = _CountedChildren(tree, paths.DISABLE_JOB, queue_size)

    def is_app_disabled(self, app_name: str) -> bool:
        return self.tree.exists(paths.disabled_app(app_name))

    def disable_app(self, app_name: str) -> None:
        """``NotFound`` unless the app exists (checked in the same transaction)."""
        self._add(self._apps, paths.disabled_app(app_name), paths.app(app_name), f"app '{app_name}'")

    def enable_app(self, app_name: str) -> None:
        self._remove(paths.disabled_app(app_name))

    def is_job_disabled(self, job_name: str) -> bool:
        return self.tree.exists(paths.disabled_job(job_name))

    def disable_job(self, job_name: str) -> None:
        """``NotFound`` unless the job exists (checked in the same transaction)."""
        self._add(self._jobs, paths.disabled_job(job_name), paths.job(job_name), f"job '{job_name}'")

    def enable_job(self, job_name: str) -> None:
        self._remove(paths.disabled_job(job_name))

    def disabled_apps(self) -> set[str]:
        return set(self.tree.children(paths.DISABLE_APP))

    def disabled_jobs(self) -> set[str]:
        return set(self.tree.children(paths.DISABLE_JOB))

    def _add(self, parent: _CountedChildren, path: str, owner: str, what: str) -> None:
        def plan() -> tuple[list[Op], None]:
            if self.tree.get(owner) is None:
                raise NotFound(f"{what} not found")
            if self.tree.get(path) is not None:
                return [], None  # disabled already (perhaps concurrently): the wanted state holds
            parent.refuse_if_full(f"disabling {what}")
            return [Check(owner), Create(path, path.rsplit("/", 1)[1].encode())], None

        transact(self.tree, plan, f"disabling {what}")

    def _remove(self, path: str) -> None:
        try:
            self.tree.commit([Delete(path)])
        except NotFound:
            pass  # already enabled


class ReadyQueue:
    """``/state/ready/{job}`` = decimal count of queued runs (the original's counter)."""

    def __init__(self, tree: Tree, queue_size: int = 10000):
        self.tree = tree
        self._root = _CountedChildren(tree, paths.READY, queue_size)
        tree.ensure(paths.READY_QUEUED_AT)

    def trigger(self, job_name: str, misfire_of: Callable[[JobConfig], bool]) -> int:
        """One run queued for a job that exists at commit time (the check is in the transaction: a
        run is never queued for a job deregistered meanwhile); ``misfire_of`` gives the job's rule
        (and raises for a job that cannot be triggered). A job with ``startingDeadlineSeconds`` gets
        the run's instant in its record in the same transaction (``core.queued_at``). Returns the new
        count."""
        path = paths.ready(job_name)

        def plan() -> tuple[list[Op], int]:
            found = self.tree.get(paths.job(job_name))
            job = decode(found[0], paths.job(job_name), load_stored_job) if found else None
            if found is None or job is None:
                raise NotFound(f"job '{job_name}' not found")
            misfire = misfire_of(job)
            deadline = job.policy.starting_deadline_seconds is not None
            current, record = (
                self.tree.get_many([path, paths.ready_queued_at(job_name)])
                if deadline
                else (self.tree.get(path), None)
            )
            count = self.next_count(current, misfire)
            ops: list[Op] = [Check(paths.job(job_name))]
            if current is None:
                self._root.refuse_if_full(f"queueing a run of '{job_name}'")
                ops.append(Create(path, str(count).encode()))
            else:
                ops.append(SetData(path, str(count).encode(), current[1]))
            instants = record_op(job_name, current, record, count, time.time()) if deadline else None
            return ops + ([instants] if instants is not None else []), count

        return transact(self.tree, plan, f"triggering job '{job_name}'")

    @staticmethod
    def next_count(current: tuple[bytes, int] | None, misfire: bool, runs: int = 1) -> int:
        """The counter after ``runs`` more fires: added up with misfire, else one pending run."""
        if current is None:
            return runs if misfire else 1
        return _to_int(current[0]) + runs if misfire else 1

    def refuse_if_full(self, what: str, adding: int = 0) -> None:
        self._root.refuse_if_full(what, adding)

    def counts(self) -> dict[str, int]:
        return {name: count for name, (count, _) in self.snapshot().items()}

    def counters(self, with_record: Callable[[str], bool]) -> dict[str, QueuedCounter]:
        """Every queued job's counter with its stat times, and the record of when its runs were
        queued for the jobs ``with_record`` names (``core.queued_at``), in one pipelined read."""
        return read_counters(self.tree, with_record)

    def snapshot(self) -> dict[str, tuple[int, int]]:
        """Every queued job's count and node version (a launch's take is guarded by it: the
        ledger's ``ReadyTake``), in one pipelined read."""
        names = self.tree.children(paths.READY)
        found = self.tree.get_many([paths.ready(name) for name in names])
        return {
            name: (_to_int(entry[0]), entry[1])
            for name, entry in zip(names, found, strict=True)
            if entry is not None
        }


class FailoverQueue:
    """``/state/failover``: shards waiting to run again (value: the lost task's ID, as the original).

    A shard failed over again and again also has ``/state/failover_backoff/{job}/{job}@-@{item}``
    (``{"attempt": n, "notBefore": epoch seconds}``): kept in ZooKeeper, the back-off survives a
    leader change. It is rewritten by every failover of the shard and removed when the shard runs
    to its end (``end_streak``) or the job goes.

    A job whose runs overlap (``concurrencyPolicy`` ALLOW) may lose the same shard in two runs
    (one agent's loss takes both): the second loss is queued beside the shard's own entry, under
    ``/state/failover/{job}/{lost task ID}`` (a five-part name the original reads as the same shard),
    run again at once and without a back-off streak of its own.
    """

    def __init__(self, tree: Tree, queue_size: int = 10000):
        self.tree = tree
        self._root = _CountedChildren(tree, paths.FAILOVER, queue_size)

    def add(self, entry: FailoverEntry, beside: bool = False) -> bool:
        """Queue the shard; False when it is queued already or its job does not exist any more (a
        deregistered job has nothing to fail over: the job check is part of the transaction). With
        ``beside``, a shard queued already for another task gets this one's entry beside it."""
        job_dir = paths.failover_job(entry.job_name)
        path = paths.failover_task(entry.job_name, entry.sharding_item)
        backoff_dir = paths.failover_backoff_job(entry.job_name)
        backoff = paths.failover_backoff(entry.job_name, entry.sharding_item)
        own = paths.failover_record(entry.job_name, entry.original_task_id)

        def plan() -> tuple[list[Op], bool]:
            job, parent, current, streak_dir, streak, mine = self.tree.get_many(
                [paths.job(entry.job_name), job_dir, path, backoff_dir, backoff, own]
            )
            if job is None or mine is not None:  # gone, or this task queued beside already
                return [], False
            if current is not None:
                if not beside or current[0].decode() == entry.original_task_id:
                    return [], False
                self._root.refuse_if_full(f"failing over '{entry.job_name}' shard {entry.sharding_item}")
                return [Check(paths.job(entry.job_name)), Create(own, entry.original_task_id.encode())], True
            self._root.refuse_if_full(f"failing over '{entry.job_name}' shard {entry.sharding_item}")
            ops: list[Op] = [Check(paths.job(entry.job_name))]
            if parent is None:
                ops.append(Create(job_dir))
            ops.append(Create(path, entry.original_task_id.encode()))
            if entry.attempt > 1:
                if streak_dir is None:
                    self.tree.ensure(paths.FAILOVER_BACKOFF)
                    ops.append(Create(backoff_dir))
                data = encode_json({"attempt": entry.attempt, "notBefore": entry.not_before})
                ops.append(Create(backoff, data) if streak is None else SetData(backoff, data, streak[1]))
            elif streak is not None:
                ops.append(Delete(backoff, streak[1]))
            return ops, True

        return transact(self.tree, plan, f"failing over '{entry.job_name}' shard {entry.sharding_item}")

    def entries(self) -> list[FailoverEntry]:
        """Every entry: the shards' own, then those queued beside them (``add``)."""
        found = list(_items_under(self.tree, paths.FAILOVER, _failover_entry, _record_item))
        entries = [e for e in found if e.record is None]
        beside = [e for e in found if e.record is not None]
        if not entries or not self.tree.exists(paths.FAILOVER_BACKOFF):
            return entries + beside
        streaks = self.tree.get_many([paths.failover_backoff(e.job_name, e.sharding_item) for e in entries])
        return [_with_streak(entry, s) for entry, s in zip(entries, streaks, strict=True)] + beside

    def streak(self, job_name: str, sharding_item: int) -> int:
        found = self.tree.get(paths.failover_backoff(job_name, sharding_item))
        return _with_streak(FailoverEntry(job_name, sharding_item, ""), found).attempt if found else 0

    def streaks(self) -> set[tuple[str, int]]:
        """Every shard with a back-off node (a new leader's starting point)."""
        if not self.tree.exists(paths.FAILOVER_BACKOFF):
            return set()
        found = set()
        for job_name in self.tree.children(paths.FAILOVER_BACKOFF):
            for child in self.tree.children(paths.failover_backoff_job(job_name)):
                item = _parse_item(child, job_name)
                if item is not None:
                    found.add((job_name, item))
        return found

    def end_streak(self, job_name: str, sharding_item: int) -> None:
        path = paths.failover_backoff(job_name, sharding_item)
        if self.tree.exists(path):
            _remove_item(self.tree, paths.failover_backoff_job(job_name), path)

    def withdraw(self, job_name: str, sharding_item: int, task_id: str) -> bool:
        """Remove the shard's entry only if it fails over ``task_id``: that task turned out to run
        (a LAUNCH whose answer was lost, an agent that came back), so the shard must not run again."""
        for path in (paths.failover_task(job_name, sharding_item), paths.failover_record(job_name, task_id)):
            found = self.tree.get(path)
            if found is not None and found[0].decode() == task_id:
                return _remove_item(self.tree, paths.failover_job(job_name), path, found[1])
        return False


class RunningStore:
    """``/state/running`` as a new leader reads it (written by the ledger, ``registry.ledger``)."""

    def __init__(self, tree: Tree):
        self.tree = tree
        tree.ensure(paths.RUNNING)

    def entries(self) -> list[RunningEntry]:
        """Every record: the shard's own (``{job}@-@{item}``) and those of tasks of overlapping runs,
        named by their task ID (``RunningEntry``)."""
        return list(_items_under(self.tree, paths.RUNNING, _running_entry, _record_item))


def _record_item(child: str, job_name: str) -> int | None:
    """The shard of a record: named ``{job}@-@{item}`` (the shard's own) or by a task ID of the job."""
    item = _parse_item(child, job_name)
    if item is not None:
        return item
    try:
        parsed = TaskId.parse(child)
    except ValueError:
        return None
    return parsed.sharding_item if parsed.job_name == job_name else None


def _running_entry(job_name: str, item: int, task_id: str, child: str) -> RunningEntry:
    own = child == f"{job_name}{DELIMITER}{item}"
    return RunningEntry(job_name, item, task_id, None if own else child)


def _failover_entry(job_name: str, item: int, task_id: str, child: str) -> FailoverEntry:
    own = child == f"{job_name}{DELIMITER}{item}"
    return FailoverEntry(job_name, item, task_id, record=None if own else child)


def _with_streak(entry: FailoverEntry, found: tuple[bytes, int] | None) -> FailoverEntry:
    """``entry`` with its back-off node's attempt and time (an unreadable node counts as none)."""
    if found is None:
        return entry
    try:
        streak = json.loads(found[0])
        attempt, not_before = int(streak["attempt"]), float(streak["notBefore"])
    except (ValueError, KeyError, TypeError):
        log.warning("unreadable failover back-off of %s shard %s", entry.job_name, entry.sharding_item)
        return entry
    return FailoverEntry(entry.job_name, entry.sharding_item, entry.original_task_id, attempt, not_before)


def _items_under(tree: Tree, root: str, make: Any, parse: Any = None) -> Any:
    """``{root}/{job}/{job}@-@{item}`` = task id entries: every job's children listed in one
    pipelined batch, then every entry read in another (10,000 jobs: two batches, not 10,000 round
    trips, which made a new leader's start take seconds). With ``parse`` (child, job → item or
    None), other child names count too and ``make`` also gets the child's name."""
    job_names = tree.children(root)
    listed = tree.children_many([f"{root}/{job_name}" for job_name in job_names])
    shards = [
        (job_name, child) for job_name, children in zip(job_names, listed, strict=True) for child in children
    ]
    found = tree.get_many([f"{root}/{job_name}/{child}" for job_name, child in shards])
    for (job_name, child), entry in zip(shards, found, strict=True):
        item = (parse or _parse_item)(child, job_name)
        if item is not None and entry is not None:
            task_id = entry[0].decode()
            yield make(job_name, item, task_id, child) if parse else make(job_name, item, task_id)


def _remove_item(tree: Tree, job_path: str, item_path: str, version: int = -1) -> bool:
    """Remove one shard entry (at ``version``, or any), and the job node once it is empty (as the
    original does). False when the entry was gone or had moved on."""
    try:
        tree.commit([Delete(item_path, version)])
        removed = True
    except (NotFound, Conflict):
        removed = False
    if tree.exists(job_path) and not tree.children(job_path):
        try:
            tree.commit([Delete(job_path)])
        except (NotFound, Conflict):
            pass
    return removed


class FrameworkIdStore:
    def __init__(self, tree: Tree):
        self.tree = tree

    def get(self) -> str | None:
        found = self.tree.get(paths.FRAMEWORK_ID)
        return found[0].decode() if found and found[0] else None

    def save(self, framework_id: str) -> None:
        """Written once: a stored ID is never replaced (tasks of that framework keep running)."""
        self.tree.ensure(paths.FRAMEWORK_ID.rsplit("/", 1)[0])
        if self.tree.exists(paths.FRAMEWORK_ID):
            return
        try:
            self.tree.commit([Create(paths.FRAMEWORK_ID, framework_id.encode())])
        except AlreadyExists:
            pass
