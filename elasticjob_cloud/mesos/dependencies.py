"""The engine's side of job dependencies (issue #17): record how the tasks of upstream jobs end,
and complete their runs once no shard of them will run again.

* ``task_ended``: a task of a job that others depend on ended (the status handler removes it from
  the running state): its outcome is queued *before* the delete of its running record, in the same
  flush, so the two reach ZooKeeper in that order (``registry.dependencies``).
* ``after_flush``: once every running-state write of the round is in, each such job that no longer
  runs gets ``complete_run``: one fenced transaction that consumes its run's outcomes and queues
  the downstream runs that are due. A job with a shard queued for a retry or a failover is not
  complete; its next end brings it back here.
* ``on_load``: a new leader completes the runs its predecessor recorded but did not complete.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from ..exceptions import ElasticJobError

if TYPE_CHECKING:
    from .engine import Engine
    from .running import RunningTask

log = logging.getLogger(__name__)


class DependencyTracker:
    def __init__(self, engine: Engine):
        self.engine = engine
        self.pending: set[str] = set()  # jobs whose run may have completed
        self._folders: set[str] = set()  # outcome folders known to exist

    def task_ended(self, task: RunningTask, state: str, now: float) -> None:
        engine = self.engine
        if not engine.catalog.downstreams.get(task.job_name):
            return
        create_folder = task.job_name not in self._folders
        self._folders.add(task.job_name)
        ok = state == "TASK_FINISHED"
        engine.writes.record_outcome(task.task_id, task.item, ok, now, create_folder)
        self.pending.add(task.job_name)

    def on_load(self) -> None:
        self.pending |= set(self.engine.registry.dependencies.jobs_with_outcomes())

    def after_flush(self) -> None:
        engine = self.engine
        if not self.pending or engine.writes:
            return  # writes still to go (retried): their outcome may be among them
        for job in sorted(self.pending):
            if engine.running.is_job_running(job):
                self.pending.discard(job)  # its tasks' ends bring it back
                continue
            downstreams = sorted(engine.catalog.downstreams.get(job, ()))
            try:
                done = engine.registry.dependencies.complete_run(job, downstreams, time.time())
            except ElasticJobError as exc:  # kept: tried again after the next flush
                log.warning("the run of %s could not be completed for its dependents: %s", job, exc)
                continue
            self.pending.discard(job)
            if done.succeeded is None:
                continue
            counters = engine.stats.counters
            counters["dependency_runs_completed"] += 1
            counters["dependency_runs_queued"] += len(done.queued)
            log.info(
                "run of %s completed (%s): edges %s; runs queued for %s",
                job,
                "succeeded" if done.succeeded else "not all shards succeeded",
                ", ".join(f"{d}={s}" for d, s in done.edges) or "none",
                ", ".join(done.queued) or "none",
            )
            if done.queued:
                engine.dirty = True
