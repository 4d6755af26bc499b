"""The stores of ``core.ports``, written once over the ``Tree`` seam (ZooKeeper or memory).

Layout and JSON are the original's (``core.paths``, ``core.schemas``), so its data reads back.
Apps and jobs are ``registry.config``; multi-node changes are plans over one read committed with
guards from it (``registry.atomic``). A mark that belongs to a job or app (disable mark, trigger,
failover entry) is created with a check that the job or app exists in the same transaction, so none
is left behind by a deregistration that commits first.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from ..core import paths
from ..core.models import DELIMITER, JobConfig
from ..core.ports import RunningEntry
from ..core.queued_at import QueuedCounter
from ..core.schemas import load_stored_job
from ..exceptions import AlreadyExists, NotFound
from .atomic import transact
from .config import ConfigStore, decode, encode_json
from .failover import FailoverQueue
from .queued_at import counter_value as _to_int
from .queued_at import read_counters, record_op
from .shard_nodes import CountedChildren, items_under, record_item
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


class DisableStore:
    def __init__(self, tree: Tree, queue_size: int = 10000):
        self.tree = tree
        self._apps = CountedChildren(tree, paths.DISABLE_APP, queue_size)
        self._jobs = CountedChildren(tree, paths.DISABLE_JOB, queue_size)

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

    def _add(self, parent: CountedChildren, path: str, owner: str, what: str) -> None:
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
        self._root = CountedChildren(tree, paths.READY, queue_size)
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


class RunningStore:
    """``/state/running`` as a new leader reads it (written by the ledger, ``registry.ledger``)."""

    def __init__(self, tree: Tree):
        self.tree = tree
        tree.ensure(paths.RUNNING)

    def entries(self) -> list[RunningEntry]:
        """Every record: the shard's own (``{job}@-@{item}``) and those of tasks of overlapping runs,
        named by their task ID (``RunningEntry``)."""
        return list(items_under(self.tree, paths.RUNNING, _running_entry, record_item))


def _running_entry(job_name: str, item: int, task_id: str, child: str) -> RunningEntry:
    own = child == f"{job_name}{DELIMITER}{item}"
    return RunningEntry(job_name, item, task_id, None if own else child)


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
