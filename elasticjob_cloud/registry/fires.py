"""The producer's persistent state: ``/state/producer/{job}`` and the atomic fire writes.

A job's fire is three guarded ops: check the job's config node is still the version the producer
scheduled, move the last-fire node from the version the producer last saw (create it when absent)
and change the ready counter from the version it was last seen at (a job with
``startingDeadlineSeconds`` adds a fourth: the record of its runs' instants, ``core.queued_at``). Two producers racing for one
instant both expect the same last-fire version; only one can succeed, the other gets ``Conflict`` /
``AlreadyExists`` and learns the instant was produced. A write whose answer is lost in a connection
loss is retried the same way, so it cannot be applied twice either.

Fires due together go to ZooKeeper together: the ops of up to ``MULTI_JOBS`` jobs form one multi
(all or nothing), the multis are pipelined, and the ready counters they change are read in one
pipelined read per round (a ``multiRead``; never cached across rounds: the launcher and triggers
change them between fires). A batched multi that fails (one job's guard: another producer, the
launcher, an update) is redone job by job with fresh reads, so the others still fire once and the
conflicting job is decided alone.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from ..core import paths
from ..exceptions import RegistryUnavailable
from .queued_at import record_op
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
    deadline: bool = False  # the job has startingDeadlineSeconds: its record of instants is kept


@dataclass(frozen=True)
class FireResult:
    error: Exception | None = None  # Conflict / NotFound / AlreadyExists (lost CAS) or RegistryUnavailable
    ready_count: int | None = None  # the counter after the write; None when untouched
    refused: bool = False  # job_state_queue_size reached: only the last-fire node moved
    last_fire_version: int = -1  # the node's version after a successful write


MULTI_JOBS = 200  # jobs per batched multi
MULTI_BYTES = 256 * 1024  # and bytes per multi: well under ZooKeeper's jute.maxbuffer (1 MB)


@dataclass(frozen=True)
class _Plan:
    ops: list[Op]
    count: int | None
    refused: bool


class FireStore:
    def __init__(self, tree: Tree, queue_size: int = 10000, clock: Callable[[], float] = time.time):
        self.tree, self.queue_size, self.clock = tree, queue_size, clock
        tree.ensure(paths.PRODUCER)
        tree.ensure(paths.READY_QUEUED_AT)

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
        """Apply every write, each atomically: batched multis, pipelined; failed batches job by job."""
        plans = self._plan(writes)
        chunks = self._chunks(plans)
        outcomes = self.tree.commit_many([[op for i in chunk for op in plans[i].ops] for chunk in chunks])
        results: dict[int, FireResult] = {}
        redo: list[int] = []
        for chunk, error in zip(chunks, outcomes, strict=True):
            if error is not None and not isinstance(error, RegistryUnavailable) and len(chunk) > 1:
                redo.extend(chunk)
                continue
            for i in chunk:
                results[i] = self._outcome(writes[i], plans[i], error)
        if redo:  # one guard failed: each job of the batch alone, read afresh
            try:
                again = self._plan([writes[i] for i in redo])
                alone = self.tree.commit_many([plan.ops for plan in again])
            except RegistryUnavailable as exc:  # the batches that did apply are still reported
                results.update((i, FireResult(error=exc)) for i in redo)
            else:
                for i, plan, error in zip(redo, again, alone, strict=True):
                    results[i] = self._outcome(writes[i], plan, error)
        return [results[i] for i in range(len(writes))]

    def _plan(self, writes: list[FireWrite]) -> list[_Plan]:
        with_runs = [w.job_name for w in writes if w.runs > 0]
        recorded = [w.job_name for w in writes if w.runs > 0 and w.deadline]
        read = self.tree.get_many(
            [paths.ready(n) for n in with_runs] + [paths.ready_queued_at(n) for n in recorded]
        )
        ready_nodes = dict(zip(with_runs, read[: len(with_runs)], strict=True))
        records = dict(zip(recorded, read[len(with_runs) :], strict=True))
        now = self.clock()
        creates = any(node is None for node in ready_nodes.values())
        occupied = self.tree.child_count(paths.READY) if creates else 0
        plans = []
        for w in writes:
            ops: list[Op] = [Check(paths.job(w.job_name), w.config_version)]
            data = encode_instant(w.last_fire)
            if w.last_fire_version < 0:
                ops.append(Create(paths.last_fire(w.job_name), data))
            else:
                ops.append(SetData(paths.last_fire(w.job_name), data, w.last_fire_version))
            count, refused = None, False
            if w.runs > 0:
                found = ready_nodes[w.job_name]
                count = ReadyQueue.next_count(found, w.misfire, w.runs)
                counter = str(count).encode()
                if found is not None:
                    ops.append(SetData(paths.ready(w.job_name), counter, found[1]))
                elif occupied >= self.queue_size:
                    count, refused = None, True
                else:
                    occupied += 1
                    ops.append(Create(paths.ready(w.job_name), counter))
                if w.job_name in records and count is not None:  # one more op, deadline jobs only
                    record = record_op(w.job_name, found, records[w.job_name], count, now)
                    ops += [record] if record is not None else []
            plans.append(_Plan(ops, count, refused))
        return plans

    def _chunks(self, plans: list[_Plan]) -> list[list[int]]:
        chunks: list[list[int]] = []
        size = 0
        for i, plan in enumerate(plans):
            cost = sum(len(op.path) + len(getattr(op, "data", b"")) + 32 for op in plan.ops)
            if not chunks or len(chunks[-1]) >= MULTI_JOBS or size + cost > MULTI_BYTES:
                chunks.append([])
                size = 0
            chunks[-1].append(i)
            size += cost
        return chunks

    def _outcome(self, w: FireWrite, plan: _Plan, error: Exception | None) -> FireResult:
        if error is not None:
            return FireResult(error=error)
        version = 0 if w.last_fire_version < 0 else w.last_fire_version + 1
        return FireResult(ready_count=plan.count, refused=plan.refused, last_fire_version=version)
