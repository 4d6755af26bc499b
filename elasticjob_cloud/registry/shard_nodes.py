"""What the per-shard queues under ``/state`` have in common: ``{root}/{job}/{child}`` nodes whose
child is the shard's own name ``{job}@-@{item}`` (the original's) or, for a run overlapping another
(``concurrencyPolicy`` ALLOW), a task ID of the job; read in two pipelined batches, removed with
their job node once empty (as the original does); and a root whose job count is capped."""

from __future__ import annotations

import logging
from typing import Any

from ..core.models import DELIMITER, TaskId
from ..exceptions import Conflict, NotFound, QueueFull
from .tree import Delete, Tree

log = logging.getLogger(__name__)


def parse_item(child: str, job_name: str) -> int | None:
    prefix = f"{job_name}{DELIMITER}"
    if not child.startswith(prefix):
        return None
    try:
        return int(child[len(prefix) :])
    except ValueError:
        return None


class CountedChildren:
    """A parent node whose child count is capped by ``job_state_queue_size``."""

    def __init__(self, tree: Tree, root: str, limit: int):
        self.tree, self.root, self.limit = tree, root, limit
        tree.ensure(root)

    def refuse_if_full(self, what: str, adding: int = 0) -> None:
        """Raise QueueFull when the root (plus ``adding`` entries about to be created) is at the limit."""
        if self.tree.child_count(self.root) + adding >= self.limit:
            log.warning("%s refused: %s holds %s entries (job_state_queue_size)", what, self.root, self.limit)
            raise QueueFull(f"{what} refused: {self.root} is full (job_state_queue_size={self.limit})")


def record_item(child: str, job_name: str) -> int | None:
    """The shard of a record: named ``{job}@-@{item}`` (the shard's own) or by a task ID of the job."""
    item = parse_item(child, job_name)
    if item is not None:
        return item
    try:
        parsed = TaskId.parse(child)
    except ValueError:
        return None
    return parsed.sharding_item if parsed.job_name == job_name else None


def items_under(tree: Tree, root: str, make: Any, parse: Any = None) -> Any:
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
        item = (parse or parse_item)(child, job_name)
        if item is not None and entry is not None:
            task_id = entry[0].decode()
            yield make(job_name, item, task_id, child) if parse else make(job_name, item, task_id)


def remove_item(tree: Tree, job_path: str, item_path: str, version: int = -1) -> bool:
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
