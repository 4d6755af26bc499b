"""When the counted runs of a job were queued, as a new leader can know it (issue #17).

The ready queue is the original's counter (``/state/ready/{job}`` = how many runs wait, its data
the count and nothing else), so the leader learns the instants by watching it (``mesos.queued``).
A new leader has not watched: it learns them from ZooKeeper, from two sources chosen by cost.

- Every job: the ready node's own stat, which comes with the read the engine makes anyway. Its
  ``ctime`` is when the job's queue last became non-empty (a launch or a drop that takes the last
  run deletes the node): the instant of the oldest waiting run, exactly, unless a launch or a drop
  took some runs since and left others (only a misfire job holds more than one run). Its ``mtime``
  is the last change: no waiting run was queued later. Used for the order of equal priorities,
  at no cost at all.
- Jobs with ``startingDeadlineSeconds``: an exact record, ``/state/ready_queued_at/{job}`` (JSON,
  ``[[epoch seconds, runs], ...]`` oldest first), written by each writer that adds runs in the
  transaction that changes the counter (one more op in that transaction, only for such jobs and
  only when the count grows). The waiting runs are the record's newest ``count`` runs, because a
  launch and a drop always take the oldest: the counter alone says which entries are gone, so the
  takes and drops leave the record alone (no op, no read); the next writer that adds runs trims it
  to the counter it read. A deadline must never drop a run early, which the stat cannot promise
  after a partial take (``ctime`` is then earlier than the oldest waiting run).

Runs the record does not cover (queued by a writer that does not keep it, such as the original, or
before the job had a deadline) are taken as queued at the node's ``mtime``: late, never early.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

Entries = tuple[tuple[float, int], ...]
"""``(instant, runs)`` pairs, oldest first."""

MAX_ENTRIES = 1000
"""A record holds at most this many entries (about 25 kB): past it the newest two are merged at the
later instant, so a huge backlog of one job costs a bounded node and its newest runs are dropped late
rather than early."""


@dataclass(frozen=True)
class QueuedCounter:
    """One job's ready node as read: the count, its version (a take's guard), its stat times (epoch
    seconds) and the job's record of instants (None when not read or absent)."""

    count: int
    version: int
    created: float
    modified: float
    recorded: Entries | None = None


def newest(entries: Entries, count: int) -> Entries:
    """The entries of the newest ``count`` runs (the oldest are the ones taken or dropped)."""
    kept: list[tuple[float, int]] = []
    left = count
    for instant, runs in reversed(entries):
        if left <= 0:
            break
        kept.append((instant, min(runs, left)))
        left -= runs
    return tuple(reversed(kept))


def after_adding(entries: Entries, count_before: int, added: int, now: float) -> Entries:
    """The record once ``added`` runs are queued at ``now`` onto a counter that read ``count_before``."""
    kept = [*newest(entries, count_before), (now, added)]
    if len(kept) > MAX_ENTRIES:
        (_, earlier), (later, runs) = kept[-2], kept[-1]
        kept[-2:] = [(later, earlier + runs)]
    return tuple(kept)


def waiting_instants(counter: QueuedCounter) -> list[float]:
    """When each of the counter's waiting runs was queued, oldest first, never earlier than it was:
    the record's newest ``count`` runs, and ``modified`` for runs the record does not cover. None
    is earlier than the node's creation: a writer notes the instant just before its transaction
    commits, and an entry older than the node is not one of its runs (a record left by a writer
    that emptied the queue without keeping it)."""
    known = [
        max(t, counter.created)
        for t, runs in newest(counter.recorded or (), counter.count)
        for _ in range(runs)
    ]
    return sorted([counter.modified] * (counter.count - len(known)) + known)


def covers_all(counter: QueuedCounter) -> bool:
    """The record accounts for every waiting run (its oldest entry is then the oldest run's instant)."""
    return sum(runs for _, runs in newest(counter.recorded or (), counter.count)) >= counter.count


def encode(entries: Entries) -> bytes:
    """To the millisecond, rounded up (later, never earlier)."""
    return json.dumps([[math.ceil(t * 1000) / 1000, n] for t, n in entries], separators=(",", ":")).encode()


def decode(data: bytes) -> Entries | None:
    """The record, or None when it cannot be read (then treated as absent: late, never early)."""
    try:
        raw = json.loads(data.decode())
        entries = tuple((float(t), int(n)) for t, n in raw) if isinstance(raw, list) else None
    except (ValueError, TypeError):
        return None
    if entries is None:
        return None
    return entries if all(n > 0 for _, n in entries) else None
