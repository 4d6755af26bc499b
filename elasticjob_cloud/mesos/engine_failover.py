"""The engine's failover queue: shards queued to run again (with back-off when failed over again
and again), launches in doubt asked about before anything is repeated, and runs that turned out never
to have been launched queued again.

A part of ``Engine`` (its functions of the engine, on its's one thread), kept apart to keep each file small.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..core.models import TaskId, TaskType
from ..core.planning import overlaps
from ..core.ports import FailoverEntry
from ..core.transitions import failover_delay
from ..exceptions import ElasticJobError
from . import launch_fence

if TYPE_CHECKING:
    from .engine import Engine
    from .running import RunningTask

log = logging.getLogger("elasticjob_cloud.mesos.engine")


def entries(engine: Engine) -> list[FailoverEntry]:
    if engine.failover_watched and not engine._failover_changed:
        return []  # read empty since, and no change reported
    engine._failover_changed = False  # before the read: a change during it is reported again
    try:
        entries = engine.registry.failover.entries()
    except Exception:
        engine._failover_changed = True
        raise
    if entries:
        engine._failover_changed = True  # taken by a later transaction; read again until empty
    return entries


def add_failover(engine: Engine, task: RunningTask, now: float) -> None:
    """Queue the shard to run again: at once the first time, later each time it is failed over
    again in a row (its task was itself a failover launch), so a shard whose every task is lost
    cannot relaunch in a tight loop; the streak is kept in ZooKeeper for the next leader."""
    job = engine.catalog.jobs.get(task.job_name)
    if engine.running.at(task.job_name, task.item) is not None and not (job and overlaps(job)):
        return  # that shard runs again already (under ALLOW that may be another run's task)
    engine._failover_changed = True
    try:
        attempt = 1
        if is_failover_task(task.task_id):
            attempt = max(engine.registry.failover.streak(task.job_name, task.item), 1) + 1
        delay = failover_delay(attempt)
        entry = FailoverEntry(task.job_name, task.item, task.task_id, attempt, now + delay)
        # a job whose runs overlap may lose one shard in two runs at once: each runs again (for it,
        # False means this very task is queued already)
        beside = job is not None and overlaps(job)
        if not engine.registry.failover.add(entry, beside=beside):
            if not beside:
                folded(engine, task, "failover")
        else:
            engine.stats.failovers += 1
            if attempt > 1:
                engine.streaks.add(task.shard)
                log.warning(
                    "shard %s of %s failed over %d times in a row: the next try in %.0f s",
                    task.item,
                    task.job_name,
                    attempt,
                    delay,
                )
    except ElasticJobError as exc:
        log.error("shard %s of %s could not be queued for failover: %s", task.item, task.job_name, exc)
    engine.dirty = True


def folded(engine: Engine, task: RunningTask, why: str) -> None:
    """``task``'s shard is queued to run again already (one failover node per shard, the original's
    layout), and this loss or failure is folded into that entry: the shard runs once more for both.
    Under ``concurrencyPolicy`` ALLOW only a retry can fold (a lost task's entry is queued beside);
    said and counted, never silent."""
    if task.job_name not in engine.catalog.jobs:
        return  # the job is gone: nothing to run again
    engine.stats.counters["failovers_folded"] += 1
    log.warning(
        "shard %s of %s is queued to run again already: the %s of %s is folded into that run",
        task.item,
        task.job_name,
        why,
        task.task_id,
    )


def doubt(engine: Engine, tasks: list[RunningTask], now: float, offer_ids: Sequence[str] = ()) -> None:
    """An ACCEPT's answer was lost: the master may have launched ``tasks`` or not. They stay
    recorded as running (their shards wait) and, once the ACCEPT's offers (``offer_ids``) are
    declined (the fence, see ``launch_fence``), the master is asked about them; they are launched
    again only when it answers that it does not know them, or after ``launch_doubt_seconds``
    without an answer (see ``StatusHandler`` and ``timers``)."""
    engine.stats.launches_in_doubt += len(tasks)
    log.warning(
        "the answer to the launch of %d task(s) (%s) was lost: asking the master before launching them again",
        len(tasks),
        ", ".join(t.task_id for t in tasks[:3]) + (" ..." if len(tasks) > 3 else ""),
    )
    launch_fence.doubt(engine, tasks, offer_ids, now)


def never_launched(engine: Engine, task: RunningTask, now: float, why: str) -> None:
    """A launch in doubt that did not happen: its shard is queued again as the same run, whether
    or not its job fails over (it never ran, so nothing of it may be lost)."""
    engine.in_doubt.pop(task.task_id, None)
    engine.fence.forget(task.task_id)
    log.warning(
        "task %s of job %s shard %s was never launched (%s): queued again",
        task.task_id,
        task.job_name,
        task.item,
        why,
    )
    engine.finish(task)
    engine.reconciliation.forget(task.task_id)
    if engine.catalog.launchable(task.job_name) is not None:  # not for a job gone or disabled since
        add_failover(engine, task, now)
    engine.forget_job_node(task.job_name)
    engine.dirty = True


def expire_doubt(engine: Engine, now: float) -> None:
    launch_fence.retry(engine, now)
    for task_id, since in list(engine.in_doubt.items()):
        task = engine.running.get(task_id)
        if task is None:
            engine.in_doubt.pop(task_id)
        elif now - since >= engine.config.launch_doubt_seconds:
            never_launched(engine, task, now, f"no answer from the master in {now - since:.0f} s")


def end_streak(engine: Engine, task: RunningTask) -> None:
    """A shard with a failover streak ran to its end: its next failover starts again at once."""
    if task.shard not in engine.streaks:
        return
    try:
        engine.registry.failover.end_streak(task.job_name, task.item)
        engine.streaks.discard(task.shard)
    except ElasticJobError as exc:
        log.warning("failover streak of %s shard %s not cleared: %s", task.job_name, task.item, exc)


def is_failover_task(task_id: str) -> bool:
    """The task was launched from the failover queue (a failover or a retry): its shard's streak goes on."""
    try:
        return TaskId.parse(task_id).task_type is TaskType.FAILOVER
    except ValueError:
        return False
