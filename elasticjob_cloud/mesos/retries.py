"""Retries of shards whose job failed (issue #17's ``retry`` policy): per shard, exponential backoff
with jitter, counted, in ZooKeeper.

A shard whose task ended because the job itself failed (``core.transitions.job_failed``: its code
raised, its command exited non-zero) or that was killed at its ``timeLimitSeconds`` is queued again
through the failover queue, not before ``now + retry_delay(…)``; a lost task stays failover's
business. The retry number rides on the failover streak node
(``/state/failover_backoff/{job}/{job}@-@{item}``: ``{"attempt": retry + 1, "notBefore": …}``), so a
new leader continues the count; a retried shard's task is a FAILOVER task naming the failed one (the
event trace links them). After ``maxRetries`` the failure stands (logged, counted); a shard that
finishes clears its count.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from typing import TYPE_CHECKING

from ..core.models import JobConfig
from ..core.policies import retry_delay
from ..core.ports import FailoverEntry
from ..core.transitions import job_failed
from ..exceptions import ElasticJobError
from . import engine_failover

if TYPE_CHECKING:
    from .engine import Engine
    from .running import RunningTask

log = logging.getLogger(__name__)


def retry_if_failed(
    engine: Engine,
    task: RunningTask,
    job: JobConfig | None,
    state: str,
    ending: tuple[str | None, str | None, str | None],
    now: float,
    jitter: Callable[[], float] = random.random,
) -> None:
    """Queue the shard again when its job failed and the job's ``retry`` allows one more."""
    policy = job.policy.retry if job is not None and not job.is_daemon else None
    if policy is None or job is None:
        return
    timed_out = state == "TASK_KILLED" and task.task_id in engine.time_limits.timed_out
    if not (job_failed(state, *ending) or timed_out):
        return
    counters = engine.stats.counters
    try:
        previous = 0
        if engine_failover.is_failover_task(task.task_id):
            previous = max(engine.registry.failover.streak(task.job_name, task.item) - 1, 0)
        number = previous + 1
        if number > policy.max_retries:
            counters["retries_exhausted"] += 1
            engine.registry.failover.end_streak(task.job_name, task.item)
            engine.streaks.discard(task.shard)
            log.warning(
                "shard %s of %s failed after %d retries (maxRetries=%d): the failure stands",
                task.item,
                task.job_name,
                previous,
                policy.max_retries,
            )
            return
        delay = retry_delay(policy, number, jitter())
        entry = FailoverEntry(task.job_name, task.item, task.task_id, number + 1, now + delay)
        if not engine.registry.failover.add(entry):
            engine_failover.folded(engine, task, f"retry {number}")
        else:
            counters["retries"] += 1
            engine.streaks.add(task.shard)
            engine.failover_changed()
            engine.dirty = True
            log.warning(
                "shard %s of %s failed: retry %d of %d in %.1f s",
                task.item,
                task.job_name,
                number,
                policy.max_retries,
                delay,
            )
    except ElasticJobError as exc:
        log.error("shard %s of %s could not be queued for a retry: %s", task.item, task.job_name, exc)
