"""Run policies that kill running tasks (issue #17): ``timeLimitSeconds`` and ``concurrencyPolicy``
REPLACE.

* A shard of a TRANSIENT job running longer than its job's ``timeLimitSeconds`` (from its launch) is
  killed; its TASK_KILLED is recorded in the event trace with the message ``TIMED_OUT: …`` and
  counted (``timed_out``). A task a new leader took over counts from the moment it was loaded.
* A job with ``concurrencyPolicy`` REPLACE whose next run is queued while a run is going has the
  running tasks killed; the queued run starts once they are gone (one run of a job at a time, so a
  shard is never recorded twice under ``/state/running``).

The scan of running tasks happens only when a limit is due (``TimeLimits.check_at``), not every step.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from ..core.policies import ConcurrencyPolicy

if TYPE_CHECKING:
    from .engine import Engine

log = logging.getLogger(__name__)

TIMED_OUT_PREFIX = "TIMED_OUT: "


class TimeLimits:
    def __init__(self) -> None:
        self.started: dict[str, float] = {}  # task ID → when it was launched (or loaded)
        self.timed_out: dict[str, int] = {}  # task ID → the limit it was killed at
        self.check_at: float | None = 0.0  # the next instant a limit may be reached; 0: scan soon

    def launched(self, task_id: str, limit: int | None, now: float) -> None:
        self.started[task_id] = now
        if limit is not None:
            due = now + limit
            self.check_at = due if self.check_at is None else min(self.check_at, due)

    def enforce(self, engine: Engine, now: float) -> None:
        if self.check_at is None or now < self.check_at:
            return
        soonest: float | None = None
        running = {task.task_id: task for task in engine.running}
        for task_id in [t for t in self.started if t not in running]:
            del self.started[task_id]
        for task_id in [t for t in self.timed_out if t not in running]:
            del self.timed_out[task_id]
        for task in running.values():
            job = engine.catalog.jobs.get(task.job_name)
            limit = job.policy.time_limit_seconds if job is not None and not job.is_daemon else None
            if limit is None:
                continue
            started = self.started.setdefault(task.task_id, now)
            if now - started < limit:
                due = started + limit
                soonest = due if soonest is None else min(soonest, due)
            elif task.task_id not in self.timed_out:
                self.timed_out[task.task_id] = limit
                engine.stats.counters["timed_out"] += 1
                log.warning(
                    "task %s of job %s (shard %s) ran longer than timeLimitSeconds=%s: killing it",
                    task.task_id,
                    task.job_name,
                    task.item,
                    limit,
                )
                engine.kill(task, f"timeLimitSeconds={limit} reached")
        self.check_at = soonest

    def traced(self, status: Mapping[str, Any]) -> Mapping[str, Any]:
        """The status as the event trace records it: a timed-out task's end says so."""
        task_id = str((status.get("task_id") or {}).get("value", ""))
        limit = self.timed_out.get(task_id)
        if limit is None or status.get("state") != "TASK_KILLED":
            return status
        return {**status, "message": f"{TIMED_OUT_PREFIX}killed after timeLimitSeconds={limit}"}


def replace_running(engine: Engine, queued_jobs: Iterable[str]) -> None:
    """Kill the running tasks of REPLACE jobs that have a run queued (``engine.kill`` kills once)."""
    for name in queued_jobs:
        job = engine.catalog.jobs.get(name)
        if job is None or job.policy.concurrency_policy is not ConcurrencyPolicy.REPLACE or job.is_daemon:
            continue
        for task in engine.running.of_job(name):
            if not task.killing:
                engine.stats.counters["replaced"] += 1
                engine.kill(task, "concurrencyPolicy REPLACE: a newer run is queued")
