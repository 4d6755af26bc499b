"""Cron producer: a heap of next fire times, one entry per enabled TRANSIENT job.

``tick(now)`` reloads the jobs that changed, writes every fire that is due and returns the seconds
until the next one; ``producer.service`` runs it on a thread that sleeps exactly that long or until a
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

Deciding and writing each due fire is ``producer.firing``; this module keeps the heap and the reloads.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable
from typing import Protocol

from ..core import paths
from ..core.cron import CronSchedule
from ..core.models import JobConfig
from ..core.ports import Watches
from ..exceptions import InvalidConfig, RegistryUnavailable
from ..registry.stores import DisableStore
from ..registry.warm import Versioned, WarmJobs
from .firing import FireStores, Firing, Listener
from .job_schedules import JobStats, ScheduledJob, next_fire

log = logging.getLogger(__name__)

IDLE = 3600.0  # nothing scheduled: sleep until a change wakes us (or this long)
MIN_BACKOFF, MAX_BACKOFF = 0.1, 5.0
WATCHED = (paths.CONFIG_JOB, paths.DISABLE_JOB, paths.DISABLE_APP)


class ProducerStores(FireStores, Protocol):
    """The part of ``registry.Registry`` the producer uses (typed here so kazoo stays out of reach)."""

    disable: DisableStore

    @property
    def tree(self) -> Watches: ...  # only its watches: its writes are the fire store's


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
        self.next_due: float | None = None  # the next fire's instant, for the launcher's offer holding
        self._firing = Firing(registry, self._push, self.mark_dirty, clock, listener)
        # Every job's decoded config, kept current while this instance stood by: the first full load
        # takes them from here instead of reading and decoding every config (issue #13).
        self.warm: WarmJobs | None = None
        self.stats = self._firing.stats

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
                elif (name := paths.changed_job(path)) is not None:
                    self._dirty_jobs.add(name)
                elif (app := paths.changed_app(path)) is not None:  # /config/app is not watched here
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
        if due and not self._firing.produce(due, now):
            return self._fail(RegistryUnavailable("fires could not be written"))
        self._backoff = 0.0
        delay = self._next_delay(now)
        self.next_due = now + delay if delay < IDLE else None
        return delay

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
        self._push(job, now if job.needs_write_now else job.next_fire(job.anchor))

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
            known = None
            if full and initial and self.warm is not None:  # subscribed first: see ``WarmJobs``
                known = self.warm.snapshot()
                names |= set(known)
            elif full:
                names |= set(self._apps) | set(self._registry.config.job_names())
            self._reload(sorted(names), now, initial and full, known)
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

    def _reload(
        self, names: list[str], now: float, initial: bool, known: dict[str, Versioned] | None = None
    ) -> None:
        """``known``: configs already read (``WarmJobs``); a name it lacks is a job gone."""
        configs = self._registry.config.get_jobs_versioned(names) if known is None else known
        disabled_jobs = self._registry.disable.disabled_jobs()
        disabled_apps = self._registry.disable.disabled_apps()
        new: list[tuple[JobConfig, int, CronSchedule]] = []
        for name in names:
            found = configs.get(name)
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
                if self._missed_nothing(job, last.instant, now):
                    job.catch_up = False  # its next instant is still ahead: nothing to settle
            else:
                job.anchor = max(now, last.instant if last else now)
                job.anchor_unsaved = last is None or last.instant < job.anchor
            self._jobs[config.job_name] = job
            self._schedule(job, now)

    def _missed_nothing(self, job: ScheduledJob, last: float, now: float) -> bool:
        """Whether the standby followed this job's schedule (``WarmJobs.expected``) to ``last``, the
        job's last fire, and the instant after it is still ahead: the next fire is then known
        without a cron search (``ScheduledJob.prime``)."""
        expected = self.warm.expected(job.config, self._zone) if self.warm is not None else None
        if expected is None or expected[0] != last:
            return False
        job.prime(last, expected[1])
        return expected[1] is None or expected[1] > now

    def _parse(self, config: JobConfig) -> CronSchedule | None:
        if self.warm is not None and (parsed := self.warm.schedule(config, self._zone)) is not None:
            return parsed  # parsed while standing by, in the same zone
        try:
            return CronSchedule.parse(config.cron, config.time_zone or self._zone)
        except InvalidConfig as exc:
            log.warning("producer: job %s not scheduled: %s", config.job_name, exc.message)
            return None

    def _unschedule(self, name: str) -> None:
        job = self._jobs.pop(name, None)
        if job is not None:
            job.gen += 1
