"""When each queued run was queued: the order of equal-priority runs and their starting deadlines.

The ready queue is the original's counter (``/state/ready/{job}`` = how many runs wait), so the
instants are learnt by watching it: each round, a counter that grew by ``n`` gained ``n`` runs queued
now, one that shrank lost its oldest runs (a launch or a drop always takes the oldest). The engine
runs a round at every change of the queue (its watch), so an instant is the queueing time to within
a round. That in-memory observation is the fast path.

A job the leader knows nothing of yet (every queued job when a new leader loads the queue, a job
whose queue just became non-empty) starts from what ZooKeeper keeps (``core.queued_at``): a job with
``startingDeadlineSeconds`` from the record its runs' writers keep (exact; runs it does not cover
count from the counter's last change, late rather than early), so a run queued under the previous
leader is dropped at its own deadline, not one counted from the take-over; any job's oldest run,
for the order of equal priorities, from the counter node's creation (exact unless some of the job's
runs were taken since and others left, then earlier than it). Both come with the round's one read.

Deciding is pure (``expired``); the engine writes the drop (a guarded ready-counter change) and
reports it (``mesos.engine``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..core.models import JobConfig
from ..core.ports import ReadyTake, TriggeredTake
from ..core.queued_at import QueuedCounter, covers_all, waiting_instants
from ..core.triggers import TriggeredRun

if TYPE_CHECKING:
    from .engine import Engine

log = logging.getLogger(__name__)

DEADLINE_EXCEEDED = "DEADLINE_EXCEEDED"
"""The event trace's fire-log kind of queued runs dropped by their starting deadline."""


@dataclass(frozen=True)
class Expired:
    """``runs`` of ``job_name``'s queued runs missed their starting deadline; ``oldest`` was queued first."""

    job_name: str
    runs: int
    oldest: float
    count: int  # the counter they were read from
    version: int  # its node version (the drop is guarded by it)


class QueuedRuns:
    def __init__(self) -> None:
        self.instants: dict[str, list[float]] = {}  # job → when each queued run was queued, oldest first
        self.first_queued: dict[str, float] = {}  # job → its oldest run's instant for the order only
        self.triggered_expiry: float | None = None  # the next deadline of a run triggered with parameters

    def wants_record(self, jobs: Mapping[str, JobConfig]) -> Callable[[str], bool]:
        """Which queued jobs' records of instants the round reads: those with a deadline that this
        leader has not observed yet."""

        def wanted(name: str) -> bool:
            job = jobs.get(name)
            return (
                name not in self.instants
                and job is not None
                and job.policy.starting_deadline_seconds is not None
            )

        return wanted

    def observe(
        self,
        ready: Mapping[str, tuple[int, int]],
        now: float,
        counters: Mapping[str, QueuedCounter] | None = None,
    ) -> None:
        for name in [n for n in self.instants if ready.get(n, (0, 0))[0] <= 0]:
            del self.instants[name]
            self.first_queued.pop(name, None)
        for name, (count, _) in ready.items():
            if count <= 0:
                continue
            counter = (counters or {}).get(name)
            known = self.instants.get(name)
            if known and counter is not None and counter.created > known[0]:
                # the node is younger than the oldest run remembered: the queue emptied and filled
                # again between two rounds (a launch took the last run, then a fire came), so what
                # is remembered is of runs gone; the new runs would inherit their age
                del self.instants[name]
                self.first_queued.pop(name, None)
            if name not in self.instants and counter is not None and counter.count == count:
                self.instants[name] = waiting_instants(counter)
                if not covers_all(counter):
                    self.first_queued[name] = min(counter.created, self.instants[name][0])
                continue
            known = self.instants.setdefault(name, [])
            if count > len(known):
                known.extend([now] * (count - len(known)))
            elif count < len(known):
                del known[: len(known) - count]
                self.first_queued.pop(name, None)  # the oldest run went: its instant no longer applies

    def oldest(self, job_name: str) -> float | None:
        """When the job's oldest queued run was queued, for the launch order."""
        known = self.instants.get(job_name)
        return self.first_queued.get(job_name, known[0]) if known else None

    def expired(
        self, ready: Mapping[str, tuple[int, int]], jobs: Mapping[str, JobConfig], now: float
    ) -> list[Expired]:
        """Queued runs past their job's ``startingDeadlineSeconds`` (jobs without one: none)."""
        found = []
        for name, instants in self.instants.items():
            job = jobs.get(name)
            deadline = job.policy.starting_deadline_seconds if job is not None else None
            if deadline is None or name not in ready:
                continue
            late = sum(1 for t in instants if now - t >= deadline)
            if late:
                count, version = ready[name]
                found.append(Expired(name, min(late, count), instants[0], count, version))
        return found

    def next_expiry(self, jobs: Mapping[str, JobConfig]) -> float | None:
        """When the next queued run misses its deadline (for the engine's timer)."""
        candidates = []
        for name, instants in self.instants.items():
            job = jobs.get(name)
            if job is not None and job.policy.starting_deadline_seconds is not None and instants:
                candidates.append(instants[0] + job.policy.starting_deadline_seconds)
        if self.triggered_expiry is not None:
            candidates.append(self.triggered_expiry)
        return min(candidates, default=None)


def drop_late_runs(
    engine: Engine, ready: dict[str, tuple[int, int]], now: float
) -> dict[str, tuple[int, int]]:
    """Drop the queued runs past their starting deadline (a guarded counter change, written with the
    round's other writes), log and record each drop; the ready snapshot without the jobs concerned
    (their remaining runs launch next round, once the counter is written)."""
    late = engine.queued.expired(ready, engine.catalog.jobs, now)
    if not late:
        return ready
    remaining = dict(ready)
    for drop in late:
        left = drop.count - drop.runs
        engine.writes.drop_ready(ReadyTake(drop.job_name, drop.count, drop.version), drop.runs)
        del remaining[drop.job_name]
        engine.stats.counters["runs_dropped_by_deadline"] += drop.runs
        deadline = engine.catalog.jobs[drop.job_name].policy.starting_deadline_seconds
        log.warning(
            "job %s: %d queued run(s) dropped: not started within startingDeadlineSeconds=%s of being "
            "queued (the oldest %.1f s ago)",
            drop.job_name,
            drop.runs,
            deadline,
            now - drop.oldest,
        )
        engine.trace.fired(drop.job_name, DEADLINE_EXCEEDED, drop.oldest, 0, drop.runs, left, now)
        engine.dirty = engine.dirty or left > 0
    return remaining


def drop_late_triggered(engine: Engine, runs: list[TriggeredRun], now: float) -> list[TriggeredRun]:
    """Runs triggered with parameters: the same deadline, from the instant they were queued (kept in
    their record). Returns the runs still queued; notes the next deadline for the engine's timer."""
    kept: list[TriggeredRun] = []
    soonest: float | None = None
    for run in runs:
        job = engine.catalog.jobs.get(run.job_name)
        deadline = job.policy.starting_deadline_seconds if job is not None else None
        if deadline is None or now - run.queued_at < deadline:
            kept.append(run)
            if deadline is not None:
                due = run.queued_at + deadline
                soonest = due if soonest is None else min(soonest, due)
            continue
        engine.writes.drop_triggered(TriggeredTake(run.job_name, run.run_id))
        engine.stats.counters["runs_dropped_by_deadline"] += 1
        log.warning(
            "job %s: triggered run %s dropped: not started within startingDeadlineSeconds=%s of being "
            "queued (%.1f s ago)",
            run.job_name,
            run.run_id,
            deadline,
            now - run.queued_at,
        )
        engine.trace.fired(run.job_name, DEADLINE_EXCEEDED, run.queued_at, 0, 1, None, now)
    engine.queued.triggered_expiry = soonest
    return kept
