"""The ready counters as the engine reads them, and the record of instants the adders write.

Why and what: ``core.queued_at``. Here: the one read of the counters with their stat times (and
the records of the jobs the engine asks about, in the same ``multiRead``), and the op that each
writer adding runs to a deadline job's counter puts in the transaction that changes it
(``registry.fires``, ``ReadyQueue.trigger``, ``registry.dependencies``). Takes and drops
(``registry.ledger``) do not touch the record: the counter says how many of its newest runs wait.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from ..core import paths
from ..core.queued_at import QueuedCounter, after_adding, decode, encode
from .tree import Create, Op, SetData, Tree

log = logging.getLogger(__name__)

Found = tuple[bytes, int] | None


def counter_value(data: bytes) -> int:
    """The ready counter's count (its data: a decimal string, as the original's Integer.parseInt)."""
    try:
        return int(data.decode().strip() or 0)
    except ValueError:
        return 0


def record_op(job_name: str, ready_before: Found, record: Found, count_after: int, now: float) -> Op | None:
    """The record's write when the counter goes from ``ready_before`` (as read) to ``count_after``
    at ``now``: None when no run is added (a fire without misfire onto a waiting run)."""
    count_before = counter_value(ready_before[0]) if ready_before is not None else 0
    added = count_after - count_before
    if added <= 0:
        return None
    entries = decode(record[0]) if record is not None else None
    if record is not None and entries is None:
        log.warning("unreadable record of queued instants of %s: rewritten", job_name)
    data = encode(after_adding(entries or (), count_before, added, now))
    path = paths.ready_queued_at(job_name)
    return Create(path, data) if record is None else SetData(path, data, record[1])


def read_counters(tree: Tree, with_record: Callable[[str], bool]) -> dict[str, QueuedCounter]:
    """Every queued job's counter with its stat times, and the record of instants of the jobs
    ``with_record`` names: one listing and one pipelined read, as the plain counters cost."""
    names = tree.children(paths.READY)
    recorded = [name for name in names if with_record(name)]
    found = tree.get_many_stamped(
        [paths.ready(name) for name in names] + [paths.ready_queued_at(name) for name in recorded]
    )
    records = dict(zip(recorded, found[len(names) :], strict=True))
    counters: dict[str, QueuedCounter] = {}
    for name, entry in zip(names, found[: len(names)], strict=True):
        if entry is None:
            continue
        record = records.get(name)
        counters[name] = QueuedCounter(
            counter_value(entry.data),
            entry.version,
            entry.created,
            entry.modified,
            decode(record.data) if record is not None else None,
        )
    return counters
