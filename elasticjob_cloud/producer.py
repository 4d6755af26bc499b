"""Cron producer: a heap of next fire times, one entry per enabled TRANSIENT job.

``tick(now)`` reloads the jobs that changed, writes every fire that is due and returns the seconds
until the next one; ``producer_service`` runs it on a thread that sleeps exactly that long or until a
watch reports a change. Unlike the original (one Quartz trigger per distinct cron text, fires missed
while down dropped), each job has its own entry and its own persisted last fire:

* a fire is one ZooKeeper multi guarded by the version of ``/state/producer/{job}``, so an instant
  is produced once even with two producers racing (the loser re-reads and skips);
* a job first seen at start-up with a stored last fire settles the gap since then with its misfire
  rule (true: one catch-up run; false: none) and the count of missed fires is logged and kept;
* a new, re-enabled or re-timed job starts at that moment ("anchor", written so a later restart does
  not count the time it was disabled as missed): disabled jobs accumulate no backlog;
* a fire that could not be written on time (slow loop, ZooKeeper outage) is written once possible,
  with every instant it covered (misfire=true adds them all, false keeps one run).
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Protocol

from .core import paths
from .core.cron import CronSchedule
from .core.models import JobConfig
from .exceptions import InvalidConfig, RegistryUnavailable
from .producer_jobs import FireKind, FireRecord, JobStats, ScheduledJob, count_due, next_fire
from .registry.fires import FireResult, FireStore, FireWrite
from .registry.stores import ConfigStore, DisableStore
from .registry.tree import Tree

log = logging.getLogger(__name__)

IDLE = 3600.0  # nothing scheduled: sleep until a change wakes us (or this long)
MIN_BACKOFF, MAX_BACKOFF = 0.1, 5.0
WATCHED = (paths.CONFIG_JOB, paths.DISABLE_JOB, paths.DISABLE_APP)

Listener = Callable[[FireRecord], None]


class ProducerStores(Protocol):
    """The part of ``registry.Registry`` the producer uses (typed here so kazoo stays out of reach)."""

    tree: Tree
    config: ConfigStore
    disable: DisableStore
    fires: FireStore


class Producer:
    def __init__(
        self,
        registry: ProducerStores,
        default_time_zone: str,
        clock: Callable[[], float] = time.time,
        listener: Listener | None = None,
        on_change: Callable[[], None] | None = None,
    ):
        self._registry = registry
        self._zone = default_time_zone
        self._clock = clock
        self._listener = listener
        self._on_change = on_change
        self._jobs: dict[str, ScheduledJob] = {}
        self._apps: dict[str, str] = {}  # every TRANSIENT job seen -> its app, to map app events
        self._heap: list[tuple[float, int, str, int]] = []
        self._seq = itertools.count()
        self._lock = threading.Lock()  # guards the dirty marks, set from watch threads
        self._full, self._initial = True, True
        self._dirty_jobs: set[str] = set()
        self._dirty_apps: set[str] = set()
        self._backoff = 0.0
        self.stats: dict[str, JobStats] = defaultdict(JobStats)

    # ------------------------------------------------------------------ change detection

    def watch(self) -> list[Callable[[], None]]:
        """Subscribe to the nodes that change what is scheduled; returns the unsubscribers."""
        return [self._registry.tree.watch(path, self.mark_dirty) for path in WATCHED]

    def mark_dirty(self, path: str | None) -> None:
        """Watch callback: remember what to reload and wake the loop. Never raises, never blocks."""
        try:
            with self._lock:
                if path is None:
                    self._full = True
                elif (
                    name := _child_of(path, paths.CONFIG_JOB) or _child_of(path, paths.DISABLE_JOB)
                ) is not None:
                    self._dirty_jobs.add(name)
                elif (app := _child_of(path, paths.DISABLE_APP)) is not None:
                    self._dirty_apps.add(app)
                else:
                    return
            if self._on_change is not None:
                self._on_change()
        except Exception:
            log.exception("producer: handling a change of %s failed", path)

    # ------------------------------------------------------------------------------ loop

    def tick(self, now: float) -> float:
        """Reload what changed, write every due fire; seconds until the next one is due."""
        try:
            self._apply_changes(now)
        except RegistryUnavailable as exc:
            return self._fail(exc)
        due = self._pop_due(now)
        if due and not self._produce(due, now):
            return self._backoff
        self._backoff = 0.0
        return self._next_delay(now)

    @property
    def scheduled(self) -> dict[str, float | None]:
        """Enabled TRANSIENT jobs and their next fire (epoch seconds); for tests and diagnostics."""
        return {name: next_fire(job.schedule, job.anchor) for name, job in list(self._jobs.items())}

    def totals(self) -> JobStats:
        total = JobStats()
        for stats in self.stats.values():
            for field in vars(total):
                setattr(total, field, getattr(total, field) + getattr(stats, field))
        return total

    def _fail(self, exc: Exception) -> float:
        self._backoff = min(MAX_BACKOFF, max(MIN_BACKOFF, self._backoff * 2))
        log.warning("producer: ZooKeeper unavailable (%s); retrying in %.1fs", exc, self._backoff)
        return self._backoff

    def _push(self, job: ScheduledJob, at: float | None) -> None:
        job.gen += 1
        if at is not None:
            heapq.heappush(self._heap, (at, next(self._seq), job.name, job.gen))

    def _schedule(self, job: ScheduledJob, now: float) -> None:
        self._push(job, now if job.needs_write_now else next_fire(job.schedule, job.anchor))

    def _pop_due(self, now: float) -> list[tuple[ScheduledJob, float]]:
        due = []
        while self._heap and self._heap[0][0] <= now:
            at, _, name, gen = heapq.heappop(self._heap)
            job = self._jobs.get(name)
            if job is not None and job.gen == gen:
                due.append((job, at))
        return due

    def _next_delay(self, now: float) -> float:
        while self._heap:
            at, _, name, gen = self._heap[0]
            job = self._jobs.get(name)
            if job is not None and job.gen == gen:
                return max(0.0, at - now)
            heapq.heappop(self._heap)
        return IDLE

    # ------------------------------------------------------------------------- reloading

    def _apply_changes(self, now: float) -> None:
        with self._lock:
            full, initial, jobs, apps = self._full, self._initial, self._dirty_jobs, self._dirty_apps
            self._full, self._dirty_jobs, self._dirty_apps = False, set(), set()
        if not (full or jobs or apps):
            return
        try:
            names = set(jobs) | {job for job, app in self._apps.items() if app in apps}
            if full:
                names |= set(self._apps) | set(self._registry.config.job_names())
            self._reload(sorted(names), now, initial and full)
        except Exception:
            with self._lock:  # nothing is lost: the same reload runs on the next tick
                self._full, self._dirty_jobs, self._dirty_apps = (
                    self._full or full,
                    self._dirty_jobs | jobs,
                    self._dirty_apps | apps,
                )
            raise
        if full:
            self._initial = False

    def _reload(self, names: list[str], now: float, initial: bool) -> None:
        configs = self._registry.config.get_jobs_versioned(names)
        disabled_jobs = self._registry.disable.disabled_jobs()
        disabled_apps = self._registry.disable.disabled_apps()
        new: list[tuple[JobConfig, int, CronSchedule]] = []
        for name in names:
            found = configs[name]
            config = found[0] if found else None
            if found is None or config is None or not config.is_transient:
                self._apps.pop(name, None)
                self._unschedule(name)
                continue
            self._apps[name] = config.app_name
            schedule = self._parse(config) if name not in disabled_jobs else None
            if schedule is None or config.app_name in disabled_apps:
                self._unschedule(name)
                continue
            job = self._jobs.get(name)
            if job is None:
                new.append((config, found[1], schedule))
                continue
            job.config, job.config_version = config, found[1]
            if job.schedule != schedule:  # re-timed: the new cron starts now, nothing before counts
                job.schedule, job.anchor, job.anchor_unsaved = schedule, max(job.anchor, now), True
                job.catch_up = False
                self._schedule(job, now)
        new_names = [config.job_name for config, _, _ in new]
        last_fires = self._registry.fires.last_fires(new_names)
        for config, version, schedule in new:
            last = last_fires[config.job_name]
            job = ScheduledJob(config, version, schedule, now, -1 if last is None else last.version)
            if initial and last is not None and last.instant < now:
                job.anchor, job.catch_up = last.instant, True  # settle the gap since the last fire
            else:
                job.anchor = max(now, last.instant if last else now)
                job.anchor_unsaved = last is None or last.instant < job.anchor
            self._jobs[config.job_name] = job
            self._schedule(job, now)

    def _parse(self, config: JobConfig) -> CronSchedule | None:
        try:
            return CronSchedule.parse(config.cron, config.time_zone or self._zone)
        except InvalidConfig as exc:
            log.warning("producer: job %s not scheduled: %s", config.job_name, exc.message)
            return None

    def _unschedule(self, name: str) -> None:
        job = self._jobs.pop(name, None)
        if job is not None:
            job.gen += 1

    # ---------------------------------------------------------------------------- firing

    def _produce(self, due: list[tuple[ScheduledJob, float]], now: float) -> bool:
        """Write the due fires in one pipelined batch. False when ZooKeeper is unavailable."""
        planned: list[tuple[ScheduledJob, float, FireKind, FireWrite, int]] = []
        for job, at in due:
            kind, write, missed = self._plan(job, now)
            self._schedule_after(job, write.last_fire)  # advance before the side effect
            if kind is not None:
                planned.append((job, at, kind, write, missed))
        if not planned:
            return True
        try:
            results = self._registry.fires.write([write for _, _, _, write, _ in planned])
        except RegistryUnavailable as exc:
            results = [FireResult(error=exc)] * len(planned)
        written_at = self._clock()
        available = True
        for (job, at, kind, write, missed), result in zip(planned, results, strict=True):
            if isinstance(result.error, RegistryUnavailable):
                available = False
                self._push(job, at)  # retried after the back-off: nothing lost
            elif result.error is not None:
                try:
                    self._lost_cas(job, at, write, result.error)
                except RegistryUnavailable:
                    available = False
                    self._push(job, at)
            else:
                self._written(job, kind, write, missed, result, written_at)
        if not available:
            self._fail(RegistryUnavailable("fires could not be written"))
        return available

    def _plan(self, job: ScheduledJob, now: float) -> tuple[FireKind | None, FireWrite, int]:
        count, latest = count_due(job.schedule, job.anchor, now)
        misfire = job.config.misfire
        kind: FireKind | None
        if job.catch_up:
            kind = None if count == 0 else FireKind.CATCH_UP if misfire else FireKind.SKIP
            runs, missed = (1 if misfire and count else 0), count
        elif count:
            kind, runs, missed = FireKind.FIRE, count, 0
        else:
            kind, runs, missed = (FireKind.ANCHOR if job.anchor_unsaved else None), 0, 0
        if kind is None:
            job.catch_up = job.anchor_unsaved = False
        instant = latest if latest is not None else job.anchor
        write = FireWrite(job.name, job.config_version, instant, job.last_fire_version, runs, misfire)
        return kind, write, missed

    def _schedule_after(self, job: ScheduledJob, instant: float) -> None:
        self._push(job, next_fire(job.schedule, instant))

    def _written(
        self, job: ScheduledJob, kind: FireKind, write: FireWrite, missed: int, result: FireResult, at: float
    ) -> None:
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
            log.warning(
                "producer: %s missed %s fire(s) while no producer ran; %s",
                job.name,
                missed,
                "one catch-up run queued" if kind is FireKind.CATCH_UP else "skipped (misfire=false)",
            )
        self._report(FireRecord(job.name, kind, write.last_fire, write.runs, missed, result.ready_count, at))

    def _lost_cas(self, job: ScheduledJob, at: float, write: FireWrite, error: Exception) -> None:
        """Someone else wrote first (another producer, the launcher, an update): re-read and decide."""
        found = self._registry.config.get_jobs_versioned([job.name])[job.name]
        if found is None or found[1] != job.config_version:
            self.mark_dirty(paths.job(job.name))  # deleted or changed: reload before firing
        last = self._registry.fires.last_fires([job.name])[job.name]
        job.last_fire_version = -1 if last is None else last.version
        if last is not None and last.instant >= write.last_fire:
            job.anchor, job.catch_up, job.anchor_unsaved = max(job.anchor, last.instant), False, False
            self.stats[job.name].lost_races += 1
            log.info("producer: %s at %s was already produced elsewhere: skipped", job.name, write.last_fire)
            self._schedule_after(job, job.anchor)
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


def _child_of(path: str, root: str) -> str | None:
    prefix = root + "/"
    return path[len(prefix) :].split("/", 1)[0] or None if path.startswith(prefix) else None
