"""Per-job schedule state of the cron producer, and the records it reports.

Times are epoch seconds (floats) so the heap compares numbers; ``CronSchedule`` is asked in aware
UTC datetimes (it compares on the time line, see ``core.cron``).
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from ..core.cron import CronSchedule
from ..core.models import JobConfig

MAX_COUNTED = 100_000  # a gap longer than this many fires is reported as "at least" this many


class FireKind(enum.StrEnum):
    FIRE = "FIRE"  # scheduled instants written to the ready queue (more than one when the loop was late)
    CATCH_UP = "CATCH_UP"  # misfire=true after a gap: one run for the missed fires
    SKIP = "SKIP"  # misfire=false after a gap: the missed fires are recorded, no run
    ANCHOR = "ANCHOR"  # the schedule starts here (new job, enable, cron change): nothing before counts
    REFUSED = "REFUSED"  # job_state_queue_size reached: the run was refused (counted, logged)
    # misfire=true after a gap, but the latest missed instant is older than the job's
    # startingDeadlineSeconds: no catch-up run (Kubernetes CronJob's rule for missed schedules)
    DEADLINE_EXCEEDED = "DEADLINE_EXCEEDED"


@dataclass(frozen=True)
class FireRecord:
    """What one write did; handed to the listener (the future event trace)."""

    job_name: str
    kind: FireKind
    instant: float  # the latest scheduled instant this write accounted for (the anchor for ANCHOR)
    runs: int  # ready runs added (0 for SKIP, ANCHOR, REFUSED)
    missed: int  # instants that fell in a gap (CATCH_UP, SKIP)
    ready_count: int | None
    written_at: float  # clock reading once the write returned


@dataclass
class JobStats:
    fires: int = 0  # scheduled instants delivered to the ready queue
    writes: int = 0  # ZooKeeper multis committed for this job
    missed: int = 0  # instants that fell in restart / leader-change gaps
    catch_ups: int = 0
    refused: int = 0  # runs refused by job_state_queue_size
    lost_races: int = 0  # another producer had already written the instant


@dataclass
class ScheduledJob:
    """An enabled TRANSIENT job in the heap. Instants ``<= anchor`` are accounted for."""

    config: JobConfig
    config_version: int
    schedule: CronSchedule
    anchor: float
    last_fire_version: int  # -1: the last-fire node is absent
    catch_up: bool = False  # the next write settles a gap with the misfire rule
    anchor_unsaved: bool = False  # the anchor must be written before it counts after a restart
    gen: int = 0  # heap entries of older generations are stale
    # The last instant looked up and its successor under ``schedule``: a fire looks up the instant
    # after the one the previous fire looked up last, so each fire computes one instant, not two.
    _known: tuple[CronSchedule, float, float | None] | None = field(
        default=None, init=False, repr=False, compare=False
    )

    def next_fire(self, after: float) -> float | None:
        known = self._known
        if known is not None and known[0] is self.schedule and known[1] == after:
            return known[2]
        found = next_fire(self.schedule, after)
        self._known = (self.schedule, after, found)
        return found

    def prime(self, after: float, found: float | None) -> None:
        """``next_fire(after)`` is ``found``, as followed elsewhere with this very schedule."""
        self._known = (self.schedule, after, found)

    @property
    def name(self) -> str:
        return self.config.job_name

    @property
    def needs_write_now(self) -> bool:
        return self.catch_up or self.anchor_unsaved


def next_fire(schedule: CronSchedule, after: float) -> float | None:
    found = schedule.next_after(datetime.fromtimestamp(after, UTC))
    return None if found is None else found.timestamp()


def count_due(
    next_of: Callable[[float], float | None], after: float, now: float
) -> tuple[int, float | None, float | None]:
    """How many instants fall in ``(after, now]``, the latest of them, and the first instant after
    those accounted for (after ``after`` when none fell due): the next one to schedule.
    ``next_of(t)`` is the schedule's first instant after ``t``."""
    count, latest = 0, None
    instant = next_of(after)
    while instant is not None and instant <= now and count < MAX_COUNTED:
        count, latest = count + 1, instant
        instant = next_of(instant)
    if count >= MAX_COUNTED:  # do not walk a century of every-second fires: account up to now
        return count, now, next_of(now)
    return count, latest, instant
