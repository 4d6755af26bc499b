"""The producer's persistent state: ``/state/producer/{job}`` and the atomic fire write.

A fire is one ZooKeeper multi: check the job's config node is still the version the producer
scheduled, move the last-fire node from the version the producer last saw (create it when absent)
and change the ready counter from the version just read. Two producers racing for one instant both
read the same last-fire version; only one multi can succeed, the other gets ``Conflict`` /
``AlreadyExists`` and learns the instant was produced. A multi whose answer is lost in a connection
loss is retried the same way, so it cannot be applied twice either.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from ..core import paths
from .stores import ReadyQueue
from .tree import Check, Create, Op, SetData, Tree

log = logging.getLogger(__name__)


def encode_instant(instant: float) -> bytes:
    return datetime.fromtimestamp(instant, UTC).isoformat().encode()


def decode_instant(data: bytes) -> float | None:
    try:
        parsed = datetime.fromisoformat(data.decode().strip())
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


@dataclass(frozen=True)
class LastFire:
    """The last scheduled instant (epoch seconds) a producer accounted for, and the node's version."""

    instant: float
    version: int


@dataclass(frozen=True)
class FireWrite:
    """One job's write. ``runs`` = 0 moves only the last-fire node (a skip or a new anchor)."""

    job_name: str
    config_version: int
    last_fire: float
    last_fire_version: int  # -1: the node is absent, create it
    runs: int
    misfire: bool


@dataclass(frozen=True)
class FireResult:
    error: Exception | None = None  # Conflict / NotFound / AlreadyExists (lost CAS) or RegistryUnavailable
    ready_count: int | None = None  # the counter after the write; None when untouched
    refused: bool = False  # job_state_queue_size reached: only the last-fire node moved
    last_fire_version: int = -1  # the node's version after a successful write


class FireStore:
    def __init__(self, tree: Tree, ready: ReadyQueue, queue_size: int = 10000):
        self.tree, self.ready, self.queue_size = tree, ready, queue_size
        tree.ensure(paths.PRODUCER)

    def last_fires(self, job_names: list[str]) -> dict[str, LastFire | None]:
        found = self.tree.get_many([paths.last_fire(name) for name in job_names])
        result: dict[str, LastFire | None] = {}
        for name, entry in zip(job_names, found, strict=True):
            instant = decode_instant(entry[0]) if entry is not None else None
            if entry is not None and instant is None:
                log.warning("unreadable last fire at %s: %r", paths.last_fire(name), entry[0][:60])
            result[name] = LastFire(instant or 0.0, entry[1]) if entry is not None else None
        return result

    def write(self, writes: list[FireWrite]) -> list[FireResult]:
        """Apply every write, each atomically; pipelined (one read and one multi per job on the wire)."""
        with_runs = [w.job_name for w in writes if w.runs > 0]
        current = dict(zip(with_runs, self.tree.get_many([paths.ready(n) for n in with_runs]), strict=True))
        occupied = self.tree.child_count(paths.READY) if any(current[n] is None for n in with_runs) else 0
        batches: list[list[Op]] = []
        planned: list[tuple[int | None, bool]] = []
        for w in writes:
            ops: list[Op] = [Check(paths.job(w.job_name), w.config_version)]
            data = encode_instant(w.last_fire)
            if w.last_fire_version < 0:
                ops.append(Create(paths.last_fire(w.job_name), data))
            else:
                ops.append(SetData(paths.last_fire(w.job_name), data, w.last_fire_version))
            count, refused = None, False
            if w.runs > 0:
                found = current[w.job_name]
                count = ReadyQueue.next_count(found, w.misfire, w.runs)
                if found is not None:
                    ops.append(SetData(paths.ready(w.job_name), str(count).encode(), found[1]))
                elif occupied >= self.queue_size:
                    count, refused = None, True
                else:
                    occupied += 1
                    ops.append(Create(paths.ready(w.job_name), str(count).encode()))
            batches.append(ops)
            planned.append((count, refused))
        results = []
        for w, error, (count, refused) in zip(writes, self.tree.commit_many(batches), planned, strict=True):
            if error is not None:
                results.append(FireResult(error=error))
            else:
                version = 0 if w.last_fire_version < 0 else w.last_fire_version + 1
                results.append(FireResult(ready_count=count, refused=refused, last_fire_version=version))
        return results
