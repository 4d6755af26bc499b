"""The cron producer's firing half: what each due job's write is, one batched write for a round, and
what every outcome means (fired, refused, lost race, ZooKeeper unavailable).

The heap stays with ``schedule.Producer``: this side only asks it, through ``push``, to (re)schedule a
job, and through ``mark_dirty`` to reload one whose config changed under it.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from ..core import paths
from ..exceptions import RegistryUnavailable
from ..registry.fires import FireResult, FireStore, FireWrite
from ..registry.stores import ConfigStore
from .job_schedules import FireKind, FireRecord, JobStats, ScheduledJob, count_due

log = logging.getLogger(__name__)

Listener = Callable[[FireRecord], None]
Push = Callable[[ScheduledJob, float | None], None]  # (re)schedule a job at an instant; None: never


class FireStores(Protocol):
    config: ConfigStore
    fires: FireStore


@dataclass(frozen=True, slots=True)
class _Planned:
    job: ScheduledJob
    at: float  # the heap instant it was popped at: where a failed write is retried
    kind: FireKind
    write: FireWrite
    missed: int
    earliest: float | None  # the first instant missed (None: none)


class Firing:
    def __init__(
        self,
        registry: FireStores,
        push: Push,
        mark_dirty: Callable[[str | None], None],
        clock: Callable[[], float] = time.time,
        listener: Listener | None = None,
    ):
        self._registry = registry
        self._push = push
        self._mark_dirty = mark_dirty
        self._clock = clock
        self._listener = listener
        self.stats: dict[str, JobStats] = defaultdict(JobStats)

    def produce(self, due: list[tuple[ScheduledJob, float]], now: float) -> bool:
        """Write the due fires in one pipelined batch. False when ZooKeeper is unavailable."""
        planned: list[_Planned] = []
        for job, at in due:
            earliest = job.next_fire(job.anchor) if job.catch_up else None
            kind, write, missed, following = self._plan(job, now)
            self._push(job, following)  # advance before the side effect
            if kind is not None:
                planned.append(_Planned(job, at, kind, write, missed, earliest if missed else None))
        if not planned:
            return True
        try:
            results = self._registry.fires.write([p.write for p in planned])
        except RegistryUnavailable as exc:
            results = [FireResult(error=exc)] * len(planned)
        written_at = self._clock()
        available = True
        gaps: list[_Planned] = []
        for p, result in zip(planned, results, strict=True):
            if isinstance(result.error, RegistryUnavailable):
                available = False
                self._push(p.job, p.at)  # retried after the back-off: nothing lost
            elif result.error is not None:
                try:
                    self._lost_cas(p.job, p.at, p.write, result.error)
                except RegistryUnavailable:
                    available = False
                    self._push(p.job, p.at)
            else:
                self._written(p, result, written_at)
                if p.missed:
                    gaps.append(p)
        if gaps:
            _log_gaps(gaps)
        return available

    @staticmethod
    def _plan(job: ScheduledJob, now: float) -> tuple[FireKind | None, FireWrite, int, float | None]:
        """The job's write, the instants it missed, and its next fire once this write is accounted."""
        count, latest, following = count_due(job.next_fire, job.anchor, now)
        misfire = job.config.misfire
        kind: FireKind | None
        if job.catch_up:
            kind = _gap_kind(job, count, latest, now)
            runs, missed = (1 if kind is FireKind.CATCH_UP else 0), count
        elif count:
            kind, runs, missed = FireKind.FIRE, count, 0
        else:
            kind, runs, missed = (FireKind.ANCHOR if job.anchor_unsaved else None), 0, 0
        if kind is None:
            job.catch_up = job.anchor_unsaved = False
        instant = latest if latest is not None else job.anchor
        deadline = job.config.policy.starting_deadline_seconds is not None
        write = FireWrite(
            job.name, job.config_version, instant, job.last_fire_version, runs, misfire, deadline
        )
        return kind, write, missed, following

    def _written(self, p: _Planned, result: FireResult, at: float) -> None:
        job, kind, write, missed = p.job, p.kind, p.write, p.missed
        job.anchor, job.last_fire_version = write.last_fire, result.last_fire_version
        job.catch_up = job.anchor_unsaved = False
        stats = self.stats[job.name]
        stats.writes += 1
        if result.refused:
            kind = FireKind.REFUSED
            stats.refused += 1
            log.warning(
                "producer: run of %s refused: the ready queue is full (job_state_queue_size)", job.name
            )
        elif kind is FireKind.FIRE:
            stats.fires += write.runs
        if missed:
            stats.missed += missed
            stats.catch_ups += kind is FireKind.CATCH_UP
            log.debug(
                "producer: %s missed %s fire(s) while no producer ran; %s",
                job.name,
                missed,
                _gap_outcome(kind),
            )
        self._report(FireRecord(job.name, kind, write.last_fire, write.runs, missed, result.ready_count, at))

    def _lost_cas(self, job: ScheduledJob, at: float, write: FireWrite, error: Exception) -> None:
        """Someone else wrote first (another producer, the launcher, an update): re-read and decide."""
        found = self._registry.config.get_jobs_versioned([job.name])[job.name]
        if found is None or found[1] != job.config_version:
            self._mark_dirty(paths.job(job.name))  # deleted or changed: reload before firing
        last = self._registry.fires.last_fires([job.name])[job.name]
        job.last_fire_version = -1 if last is None else last.version
        if last is not None and last.instant >= write.last_fire:
            job.anchor, job.catch_up, job.anchor_unsaved = max(job.anchor, last.instant), False, False
            self.stats[job.name].lost_races += 1
            log.info("producer: %s at %s was already produced elsewhere: skipped", job.name, write.last_fire)
            self._push(job, job.next_fire(job.anchor))
        else:
            if last is not None:
                job.anchor = max(job.anchor, last.instant)
            log.debug("producer: retrying %s after %s", job.name, error)
            self._push(job, at)

    def _report(self, record: FireRecord) -> None:
        if self._listener is None:
            return
        try:
            self._listener(record)
        except Exception:
            log.exception("producer: fire listener failed")


def _log_gaps(gaps: list[_Planned]) -> None:
    """One WARNING for every job of a write round that missed fires (a takeover settles thousands at
    once: 1,670 lines at 10,000 jobs); each job's own line is at DEBUG."""
    instants = [p.earliest for p in gaps if p.earliest is not None] + [p.write.last_fire for p in gaps]
    catch_ups = sum(1 for p in gaps if p.kind is FireKind.CATCH_UP)
    stale = sum(1 for p in gaps if p.kind is FireKind.DEADLINE_EXCEEDED)
    log.warning(
        "producer: %d job(s) missed %d fire(s) while no producer ran, scheduled from %s to %s; "
        "%d catch-up run(s) queued, %d skipped (misfire=false)%s",
        len(gaps),
        sum(p.missed for p in gaps),
        _utc(min(instants)),
        _utc(max(instants)),
        catch_ups,
        len(gaps) - catch_ups - stale,
        f", {stale} not queued: past their startingDeadlineSeconds" if stale else "",
    )


def _gap_kind(job: ScheduledJob, count: int, latest: float | None, now: float) -> FireKind | None:
    """How a gap of ``count`` missed instants (the latest at ``latest``) settles: none missed; the
    misfire rule (one catch-up run, or none with misfire=false); or no run when the latest missed
    instant is older than the job's ``startingDeadlineSeconds`` (a catch-up run would start later
    than the job allows; the fire's record says so)."""
    if count == 0 or latest is None:
        return None
    if not job.config.misfire:
        return FireKind.SKIP
    deadline = job.config.policy.starting_deadline_seconds
    return (
        FireKind.DEADLINE_EXCEEDED if deadline is not None and now - latest >= deadline else FireKind.CATCH_UP
    )


def _gap_outcome(kind: FireKind) -> str:
    if kind is FireKind.CATCH_UP:
        return "one catch-up run queued"
    if kind is FireKind.DEADLINE_EXCEEDED:
        return "no catch-up run: the latest is older than its startingDeadlineSeconds"
    return "skipped (misfire=false)"


def _utc(instant: float) -> str:
    return datetime.fromtimestamp(instant, UTC).isoformat(timespec="seconds")
