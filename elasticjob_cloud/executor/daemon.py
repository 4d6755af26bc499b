"""The cron loop of a DAEMON task: when to execute, what to report around each execution.

A DAEMON task stays ``TASK_RUNNING``; the executor fires the job on its cron (the project's Quartz
dialect, in the job's time zone). Executions of one task never overlap:

* ``misfire=true``: fires that come while an execution runs are coalesced into one execution
  right after it (as Quartz's "fire once now");
* ``misfire=false``: they are skipped, and the next execution is the next fire after the end.

Reporting follows the original (``eventTraceSamplingCount`` = N): with N > 0 only every N-th
execution is wrapped in ``TASK_RUNNING`` ``BEGIN`` / ``COMPLETE``; with N = 0 every one is. A failed
execution is reported (always) as ``TASK_RUNNING`` with a ``JOB_FAILURE:`` message instead of
``COMPLETE``.

Time is injected (``clock``, ``next_fire``) so the rules are tested without waiting.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from elasticjob_cloud.core.taskdata import DAEMON_BEGIN, DAEMON_COMPLETE, job_failure_message

log = logging.getLogger(__name__)

NextFire = Callable[[datetime], datetime | None]
IDLE_DELAY = 3600.0


@dataclass(frozen=True)
class Outcome:
    ok: bool
    message: str = ""


class DaemonSchedule:
    """One daemon task's fire times and sampling; :meth:`tick` does at most one execution."""

    def __init__(
        self,
        next_fire: NextFire,
        clock: Callable[[], datetime],
        execute: Callable[[], Outcome],
        report: Callable[[str], None],
        *,
        misfire: bool,
        sampling: int = 0,
    ):
        self._next_fire = next_fire
        self._clock = clock
        self._execute = execute
        self._report = report
        self._misfire = misfire
        self._sampling = max(sampling, 0)
        self._counter = 0
        self.executions = 0
        self.skipped = 0
        self._next = next_fire(clock())

    @property
    def next_fire_time(self) -> datetime | None:
        return self._next

    def tick(self) -> float:
        """Execute if a fire is due; return the seconds to wait before the next tick."""
        now = self._clock()
        if self._next is None:
            return IDLE_DELAY
        if now < self._next:
            return (self._next - now).total_seconds()
        fired_at = self._next
        following = self._next_fire(fired_at)
        self._run_one()
        end = self._clock()
        if following is not None and following <= end:
            missed = self._count_until(following, end)
            if self._misfire:
                log.info("daemon fire(s) at %s came during the execution: running again now", following)
                following = end
                self.skipped += missed - 1
            else:
                log.info("skipping %s daemon fire(s) that came during the execution", missed)
                self.skipped += missed
                following = self._next_fire(end)
        self._next = following
        if following is None:
            return IDLE_DELAY
        return max((following - self._clock()).total_seconds(), 0.0)

    def _count_until(self, first: datetime, end: datetime, cap: int = 1000) -> int:
        count = 0
        current: datetime | None = first
        while current is not None and current <= end and count < cap:
            count += 1
            current = self._next_fire(current)
        return count

    def _run_one(self) -> None:
        self.executions += 1
        traced = True
        if self._sampling > 0:
            self._counter += 1
            traced = self._counter >= self._sampling
            if traced:
                self._counter = 0
        if traced:
            self._report(DAEMON_BEGIN)
        try:
            outcome = self._execute()
        except Exception as exc:  # the loop must survive a broken execution path
            log.exception("daemon execution raised")
            outcome = Outcome(False, f"{type(exc).__name__}: {exc}")
        if not outcome.ok:
            self._report(job_failure_message(outcome.message or "execution failed"))
        elif traced:
            self._report(DAEMON_COMPLETE)


def run_daemon(schedule: DaemonSchedule, stopped: threading.Event) -> None:
    """Tick until ``stopped`` is set (a kill or the executor's exit)."""
    delay = 0.0
    while not stopped.wait(delay):
        delay = schedule.tick()


def cron_next_fire(cron: str, time_zone: str) -> NextFire:
    """``next_fire`` from the project's Quartz cron dialect; raises ``InvalidConfig``."""
    from elasticjob_cloud.core.cron import CronSchedule

    schedule = CronSchedule.parse(cron, time_zone or None)
    return schedule.next_after
