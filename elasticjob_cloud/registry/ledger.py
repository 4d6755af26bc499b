"""The scheduler's ledger: its verbs on the ZooKeeper state, the only place its tree ops are built.

The engine decides (``core.planning``, ``mesos``); this module writes. It owns ``/state/running``
(tasks recorded at launch or adoption, removed when they end, job nodes prepared and forgotten) and
the engine's takes from the queues (a ready run, a failover entry, a run triggered with parameters,
and the drops of runs past their starting deadline). Each verb is one transaction with its guards
(the ready counter's version as read), and many go out packed in few multis
(``registry.grouped``), each still applied alone or not at all. Deletes are idempotent: a node
already gone is the wanted state. Built over the registry's tree, so a leadership's ledger is
fenced by its election node like every other write of it (``registry.fencing``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from ..core import paths
from ..core.ports import (
    FailoverTake,
    LaunchRecord,
    LaunchResult,
    ReadyTake,
    RunningEntry,
    Take,
    TriggeredTake,
)
from ..exceptions import AlreadyExists, Conflict, NotFound, RegistryUnavailable
from .atomic import transact
from .dependencies import DependencyStore
from .grouped import commit_groups
from .tree import Create, Delete, Op, SetData, Tree

log = logging.getLogger(__name__)


def take_op(take: Take) -> Op:
    """The op that takes ``take`` off its queue (the ready counter guarded by its version)."""
    if isinstance(take, ReadyTake):
        return _ready_left(take, 1)
    if isinstance(take, FailoverTake):
        if take.record is not None:
            return Delete(paths.failover_record(take.job_name, take.record))
        return Delete(paths.failover_task(take.job_name, take.sharding_item))
    return Delete(paths.triggered_run(take.job_name, take.run_id))


def _ready_left(take: ReadyTake, runs: int) -> Op:
    path = paths.ready(take.job_name)
    left = take.count - runs
    return Delete(path, take.version) if left <= 0 else SetData(path, str(left).encode(), take.version)


def _record_path(job_name: str, sharding_item: int, record: str | None) -> str:
    """The shard's own record, or the named one of a task of an overlapping run (``RunningEntry``)."""
    if record is None:
        return paths.running_task(job_name, sharding_item)
    return paths.running_record(job_name, record)


def _task_op(entry: RunningEntry) -> Op:
    return Create(_record_path(entry.job_name, entry.sharding_item, entry.record), entry.task_id.encode())


class Ledger:
    def __init__(self, tree: Tree):
        self.tree = tree
        self.transactions = 0
        self.ops = 0
        tree.ensure(paths.RUNNING)

    def running_jobs(self) -> list[str]:
        return self.tree.children(paths.RUNNING)

    def prepare_jobs(self, job_names: list[str]) -> dict[str, bool | None]:
        """Create the ``/state/running/{job}`` nodes ahead of the jobs' first launches. Per job: True
        when the node exists now, None when unknown (a first launch creates it then). Raises
        ``RegistryUnavailable`` when ZooKeeper cannot be reached."""
        results = self._commit([[Create(paths.running_job(n))] for n in job_names])
        known: dict[str, bool | None] = {}
        for name, error in zip(job_names, results, strict=True):
            known[name] = True if error is None or isinstance(error, AlreadyExists) else None
            if error is not None and not isinstance(error, AlreadyExists | RegistryUnavailable):
                log.info("running node of %s not created ahead: %s", name, error)
        return known

    def record_launches(self, records: list[LaunchRecord]) -> list[LaunchResult]:
        """Per placed run, one transaction: take it off its queue, create its job node when asked,
        record its tasks. What is known of the job node afterwards comes with each result: a
        transaction that failed on a vanished queue entry says nothing about the job node, so it is
        looked up then rather than guessed (only failures pay that read)."""
        groups = [
            ([take_op(r.take)] if r.take is not None else [])
            + ([Create(paths.running_job(r.tasks[0].job_name))] if r.create_job_node else [])
            + [_task_op(t) for t in r.tasks]
            for r in records
        ]
        errors = self._commit(groups)
        return [self._launch_result(r, e) for r, e in zip(records, errors, strict=True)]

    def _launch_result(self, record: LaunchRecord, error: Exception | None) -> LaunchResult:
        if error is None:
            return LaunchResult(None, True)
        if isinstance(error, RegistryUnavailable | Conflict):  # ZooKeeper away, or the take's guard
            return LaunchResult(error, None)  # failed first: the job node was not looked at
        job = record.tasks[0].job_name
        try:
            return LaunchResult(error, self.tree.exists(paths.running_job(job)))
        except RegistryUnavailable:
            return LaunchResult(error, None)

    def take_ready_run(self, take: ReadyTake) -> bool:
        """One run taken off the ready counter as read; False when it moved since (or is gone)."""
        try:
            self._commit_one([take_op(take)])
            return True
        except (NotFound, Conflict):
            return False

    def writes(self) -> BatchedWrites:
        return BatchedWrites(self)

    def _commit(self, groups: list[list[Op]]) -> list[Exception | None]:
        if not groups:
            return []
        results = commit_groups(self.tree, groups)
        self.transactions += len(groups)
        self.ops += sum(len(g) for g in groups)
        return results

    def _commit_one(self, ops: list[Op]) -> None:
        self.tree.commit(ops)
        self.transactions += 1
        self.ops += len(ops)

    def overwrite(
        self, parent: str, path: str, data: bytes, what: str, then_delete: str | None = None
    ) -> None:
        """Write ``data`` at ``path`` over whatever is there (a stale record of an earlier task),
        creating ``parent`` when missing, and delete ``then_delete`` (when there) in the same
        transaction; re-planned on races."""

        def plan() -> tuple[list[Op], None]:
            found = self.tree.get_many([parent, path] + ([then_delete] if then_delete else []))
            found_parent, current = found[0], found[1]
            ops: list[Op] = [] if found_parent is not None else [Create(parent)]
            ops.append(Create(path, data) if current is None else SetData(path, data, current[1]))
            if then_delete and found[2] is not None:
                ops.append(Delete(then_delete, found[2][1]))
            return ops, None

        transact(self.tree, plan, what)
        self.transactions += 1


class BatchedWrites:
    """The engine's writes of one event batch (see ``core.ports.StateWrites``)."""

    def __init__(self, ledger: Ledger):
        self._ledger = ledger
        # each write's ops, and how to write it over what a create found there (None: nothing to redo)
        self._groups: list[tuple[list[Op], Callable[[], None] | None]] = []
        # outcomes queued in this batch, by the running record of their task: that record's delete
        # joins the outcome's transaction (``finish_task``)
        self._outcomes: dict[str, tuple[int, str, Create, str]] = {}

    def __len__(self) -> int:
        return len(self._groups)

    def finish_task(self, job_name: str, sharding_item: int, record: str | None = None) -> None:
        running = _record_path(job_name, sharding_item, record)
        outcome = self._outcomes.pop(running, None)
        if outcome is None:
            self._groups.append(([Delete(running)], None))
            return
        # The task's outcome and the delete of its record: one transaction, so no leader can die
        # between them with the record gone and the outcome lost (the downstream would never run).
        at, parent, op, what = outcome
        ops, _ = self._groups[at]
        data = op.data

        def redo() -> None:
            self._ledger.overwrite(parent, op.path, data, what, then_delete=running)

        self._groups[at] = ([*ops, Delete(running)], redo)

    def record_task(self, entry: RunningEntry, create_job_node: bool) -> None:
        ops = [Create(paths.running_job(entry.job_name))] if create_job_node else []
        job_dir = paths.running_job(entry.job_name)
        path = _record_path(entry.job_name, entry.sharding_item, entry.record)
        data, what = entry.task_id.encode(), f"recording task {entry.task_id}"
        self._groups.append(
            ([*ops, _task_op(entry)], lambda: self._ledger.overwrite(job_dir, path, data, what))
        )

    def record_outcome(
        self, task_id: str, item: int, succeeded: bool, now: float, create_folder: bool
    ) -> None:
        """How a task of a job others depend on ended (issue #17, ``registry.dependencies``): queued
        before the delete of its running record, which ``finish_task`` then puts in the same
        transaction."""
        op = DependencyStore.outcome_op(task_id, item, succeeded, now)
        assert isinstance(op, Create)
        parent = op.path.rsplit("/", 1)[0]
        ops: list[Op] = [Create(parent)] if create_folder else []
        data, what = op.data, f"recording the outcome of {task_id}"
        running = paths.running_task(parent.rsplit("/", 1)[1], item)
        self._outcomes[running] = (len(self._groups), parent, op, what)
        self._groups.append(([*ops, op], lambda: self._ledger.overwrite(parent, op.path, data, what)))

    def forget_job(self, job_name: str) -> None:
        self._groups.append(([Delete(paths.running_job(job_name))], None))

    def drop_ready(self, take: ReadyTake, runs: int) -> None:
        self._groups.append(([_ready_left(take, runs)], None))

    def drop_triggered(self, take: TriggeredTake) -> None:
        self._groups.append(([take_op(take)], None))

    def flush(self) -> None:
        """Commit every write; a node already gone is fine (deletes are idempotent), a task record
        that finds a stale one (or no job node) overwrites it (creates it), a guard that moved (a ready counter changed, a job node
        got a new child) needs nothing more, and what ZooKeeper could not take is kept for the next
        flush."""
        groups, self._groups = self._groups, []
        self._outcomes = {}
        if not groups:
            return
        results = self._ledger._commit([ops for ops, _ in groups])
        for (ops, redo), error in zip(groups, results, strict=True):
            if error is None or (redo is None and isinstance(error, NotFound)):
                continue
            if isinstance(error, RegistryUnavailable):
                self._groups.append((ops, redo))
                log.warning("running-state write %s failed: %s", ops[-1].path, error)
            elif isinstance(error, AlreadyExists | NotFound) and redo is not None:
                try:
                    redo()
                except RegistryUnavailable as exc:
                    self._groups.append((ops, redo))
                    log.warning("running-state write %s failed: %s", ops[-1].path, exc)
            else:
                log.info("running-state write %s skipped: %s", ops[-1].path, error)
