"""Every job's config, decoded, kept current while an instance stands by (issue #13).

A new leader's engine catalog and cron producer each start from every job's config. Read and
decoded when elected, 10,000 configs took seconds of a takeover (decoding them alone ~1.4 s of CPU,
twice: the catalog and the producer each did it). ``WarmJobs`` does it once, while standing by:
subscribed to the same ``/config/job`` cache the catalog and the producer join when elected
(``Tree.watch``: one shared cache), it reads the whole catalog when started and then only the jobs
whose nodes changed, on its own thread, a moment after each change (``settle`` seconds, so a burst
of registrations is one read). ``snapshot()`` first re-reads what changed since, so it is never older
than the events delivered before the call: a reader that subscribed to ``/config/job`` before taking
the snapshot misses nothing (a later change reaches it as an event and it re-reads that job).

With the scheduler's default time zone, each TRANSIENT job's cron is parsed too (``schedule``): the
producer's schedules are ready when elected (parsing 10,000 crons took 0.15-0.5 s of a takeover).
And followed (``expected``): each job's latest instant that passed and the next one, advanced as
the instants pass, as the leader's producer does; a job whose last fire is that instant missed
nothing, and the new leader takes its next fire from here instead of searching the cron (10,000
searches took 0.3-0.9 s of a takeover).

Cost on a standby: one decoded ``JobConfig`` and one ``CronSchedule`` per job (~1.1 KB and ~0.8 KB:
~19 MB at 10,000 jobs; the leader keeps the same objects: the catalog and the producer share them)
and a heap entry; no watch of its own (the cache is the one ``SchedulerNode.keep_warm`` holds); one
read and parse per changed job, and one cron search per scheduled instant (as the leader's
producer: at 10,000 jobs ~167 a second, a few milliseconds of CPU).
"""

from __future__ import annotations

import heapq
import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

from ..core import paths
from ..core.cron import CronSchedule
from ..core.models import JobConfig
from ..core.ports import Watches
from ..exceptions import ElasticJobError, InvalidConfig
from .config import ConfigStore

log = logging.getLogger(__name__)

Versioned = tuple[JobConfig | None, int]  # the decoded config (None: unreadable) and its node version


class WarmJobs:
    def __init__(
        self,
        tree: Watches,  # only its watch of /config/job
        config: ConfigStore,
        settle: float = 0.2,
        zone: str | None = None,
        clock: Callable[[], float] = time.time,
    ):
        """``zone``: the scheduler's default time zone; given, each TRANSIENT job's cron is parsed
        too (``schedule``), as the producer would, and followed (``expected``)."""
        self._clock = clock
        self._tree = tree
        self._config = config
        self._settle = settle
        self._zone = zone
        self._jobs: dict[str, Versioned] = {}
        self._schedules: dict[str, tuple[JobConfig, CronSchedule]] = {}
        # job → (its schedule, the latest instant that passed, the next one): ``expected``
        self._expected: dict[str, tuple[CronSchedule, float | None, float | None]] = {}
        self._due: list[tuple[float, str]] = []  # (next instant, job): a heap
        self._lock = threading.Lock()  # guards the marks
        self._reading = threading.Lock()  # one refresh at a time
        self._full = True
        self._dirty: set[str] = set()
        self._changed = threading.Event()
        self._changed.set()  # the first read
        self._stopping = threading.Event()
        self._unwatch: Callable[[], None] | None = None
        self._thread: threading.Thread | None = None
        self.reads = 0  # jobs read since started (full loads count every job)

    def start(self) -> WarmJobs:
        """Subscribe, then read everything (the thread's first refresh, at once; a snapshot asked
        before waits for it): nothing falls between the two."""
        self._unwatch = self._tree.watch(paths.CONFIG_JOB, self.mark)
        self._thread = threading.Thread(target=self._run, name="warm-jobs", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._changed.set()
        if self._thread is not None:
            self._thread.join(10)
        unwatch, self._unwatch = self._unwatch, None
        if unwatch is not None:
            unwatch()

    def mark(self, path: str | None) -> None:
        """Watch callback: remember what changed (None: possibly everything). Never blocks."""
        with self._lock:
            if path is None:
                self._full = True
            elif (name := paths.changed_job(path)) is not None:
                self._dirty.add(name)
            else:
                return
        self._changed.set()

    def snapshot(self) -> dict[str, Versioned]:
        """Every job's config and version, after re-reading what changed. Raises
        ``RegistryUnavailable`` when that read fails (the marks are kept)."""
        self.refresh()
        with self._reading:
            return dict(self._jobs)

    def refresh(self) -> None:
        with self._reading:
            with self._lock:
                full, dirty = self._full, self._dirty
                self._full, self._dirty = False, set()
            if not (full or dirty):
                return
            try:
                names = sorted(set(self._config.job_names()) | dirty) if full else sorted(dirty)
                found = self._config.get_jobs_versioned(names)
            except Exception:
                with self._lock:
                    self._full |= full
                    self._dirty |= dirty
                raise
            if full:
                self._jobs = {name: entry for name, entry in found.items() if entry is not None}
                self._schedules = {}
            else:
                for name, entry in found.items():
                    if entry is None:
                        self._jobs.pop(name, None)
                    else:
                        self._jobs[name] = entry
            if full:
                self._expected, self._due = {}, []
            now = self._clock()
            for name in names:
                self._parse(name)
                self._expect(name, now)
            self.reads += len(names)

    def schedule(self, config: JobConfig, zone: str) -> CronSchedule | None:
        """The parsed cron of exactly this config object (one ``snapshot`` handed out) with ``zone`` as
        the default time zone, else None."""
        kept = self._schedules.get(config.job_name)
        return kept[1] if kept is not None and kept[0] is config and zone == self._zone else None

    def _parse(self, name: str) -> None:
        entry = self._jobs.get(name)
        config = entry[0] if entry is not None else None
        self._schedules.pop(name, None)
        if self._zone is None or config is None or not config.is_transient:
            return
        try:
            self._schedules[name] = (config, CronSchedule.parse(config.cron, config.time_zone or self._zone))
        except InvalidConfig:
            pass  # the producer parses it again and says why it is not scheduled

    def expected(self, config: JobConfig, zone: str) -> tuple[float, float | None] | None:
        """For exactly this config (see ``schedule``): its latest scheduled instant that passed while
        this instance watched, and the instant after it; None before one passed. A job whose last
        fire is that instant missed nothing, and its next fire is known without a cron search."""
        kept = self._expected.get(config.job_name)
        schedule = self.schedule(config, zone)
        if kept is None or schedule is None or kept[0] is not schedule or kept[1] is None:
            return None
        return kept[1], kept[2]

    def _expect(self, name: str, now: float) -> None:
        kept = self._schedules.get(name)
        if kept is None:
            self._expected.pop(name, None)
            return
        following = _next(kept[1], now)
        self._expected[name] = (kept[1], None, following)
        if following is not None:
            heapq.heappush(self._due, (following, name))

    def _advance(self, now: float) -> None:
        """Each job whose next instant passed: that instant becomes its latest, the next one is
        looked up (at 10,000 jobs, ~167 lookups a second: a few milliseconds of CPU)."""
        with self._reading:
            while self._due and self._due[0][0] <= now:
                instant, name = heapq.heappop(self._due)
                kept = self._expected.get(name)
                if kept is None or kept[2] != instant:
                    continue  # re-timed or gone since
                following = _next(kept[0], instant)
                self._expected[name] = (kept[0], instant, following)
                if following is not None:
                    heapq.heappush(self._due, (following, name))

    def _until_due(self) -> float | None:
        with self._reading:
            due = self._due[0][0] if self._due else None
        return None if due is None else max(0.0, due - self._clock())

    def _run(self) -> None:
        settle = 0.0  # the first (full) read at once
        while not self._stopping.is_set():
            self._changed.wait(self._until_due())
            if self._stopping.is_set():
                return
            if self._changed.is_set():
                if self._stopping.wait(settle):
                    return
                settle = self._settle
                self._changed.clear()
                try:
                    self.refresh()
                except ElasticJobError as exc:  # kept marked: retried shortly, or by a snapshot
                    log.warning("warm job configs: reading them failed (%s); retrying", exc)
                    self._changed.set()
                    self._stopping.wait(1.0)
                except Exception:
                    log.exception("warm job configs: refresh failed; retrying")
                    self._changed.set()
                    self._stopping.wait(1.0)
            try:
                self._advance(self._clock())
            except Exception:
                log.exception("warm job configs: following the schedules failed")
                self._stopping.wait(1.0)


def _next(schedule: CronSchedule, after: float) -> float | None:
    found = schedule.next_after(datetime.fromtimestamp(after, UTC))
    return None if found is None else found.timestamp()
