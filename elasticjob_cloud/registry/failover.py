"""``/state/failover`` and ``/state/failover_backoff``: shards waiting to run again, and the back-off
of shards failed over again and again (``FailoverQueue``)."""

from __future__ import annotations

import json
import logging

from ..core import paths
from ..core.models import DELIMITER
from ..core.ports import FailoverEntry
from .atomic import transact
from .config import encode_json
from .shard_nodes import CountedChildren, items_under, parse_item, record_item, remove_item
from .tree import Check, Create, Delete, Op, SetData, Tree

log = logging.getLogger(__name__)


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
        self._root = CountedChildren(tree, paths.FAILOVER, queue_size)

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
        found = list(items_under(self.tree, paths.FAILOVER, _failover_entry, record_item))
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
                item = parse_item(child, job_name)
                if item is not None:
                    found.add((job_name, item))
        return found

    def end_streak(self, job_name: str, sharding_item: int) -> None:
        path = paths.failover_backoff(job_name, sharding_item)
        if self.tree.exists(path):
            remove_item(self.tree, paths.failover_backoff_job(job_name), path)

    def withdraw(self, job_name: str, sharding_item: int, task_id: str) -> bool:
        """Remove the shard's entry only if it fails over ``task_id``: that task turned out to run
        (a LAUNCH whose answer was lost, an agent that came back), so the shard must not run again."""
        for path in (paths.failover_task(job_name, sharding_item), paths.failover_record(job_name, task_id)):
            found = self.tree.get(path)
            if found is not None and found[0].decode() == task_id:
                return remove_item(self.tree, paths.failover_job(job_name), path, found[1])
        return False


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
