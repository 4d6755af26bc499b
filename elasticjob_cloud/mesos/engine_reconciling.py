"""The engine's reconciliation with the master: explicit for the tasks it thinks run (a new leader
waits for those answers before it launches anything), asked again until answered, implicit once the
answers are in; tasks the master stays silent about start their unreachable grace period.

A part of ``Engine`` (its functions of the engine, on its's one thread), kept apart to keep each file small.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from ..core.planning import overlaps
from .catalog import Changes

if TYPE_CHECKING:
    from .engine import Engine

log = logging.getLogger("elasticjob_cloud.mesos.engine")

# The longest a new leader waits for explicit reconciliation answers before launching. Unanswered
# tasks stay running in its view (their shards wait, and they are asked again), so waiting longer
# protects nothing more; after a master failover with an agent that never comes back it held every
# job back (10 s before).
RECONCILE_WAIT = 3.0


def reconcile(engine: Engine, explicit: bool, now: float, blocking: bool = False) -> None:
    """Explicit: ask for every task we think runs (then implicit when the answers are in)."""
    if engine.driver is None or not engine.subscribed:
        return
    if not explicit:
        engine.driver.reconcile([])
        return
    tasks = [(t.task_id, t.agent_id) for t in engine.running]
    if tasks:
        ask(engine, tasks, now)
    if blocking and tasks:
        engine.awaiting = {t for t, _ in tasks}
        engine.reconcile_deadline = now + RECONCILE_WAIT
    else:
        engine.driver.reconcile([])


def ask(engine: Engine, tasks: list[tuple[str, str]], now: float) -> None:
    """Explicit reconciliation of ``tasks``, asked again with backoff until answered (see
    ``reconcile.py``: a master may stay silent about a task on an agent it recovered)."""
    if engine.driver is not None and engine.subscribed:
        engine.driver.reconcile(tasks)
    engine.reconciliation.ask(tasks, now)


def answered(engine: Engine, task_id: str, now: float) -> None:
    engine.reconciliation.answered(task_id)
    if engine.awaiting is not None:
        engine.awaiting.discard(task_id)
        finish(engine, now)


def on_agent_lost(engine: Engine, agent_id: str, now: float) -> None:
    """FAILURE for an agent (slaveLost): its offers are void and its tasks are asked about. After
    a master failover, an agent recovered from the registry that never came back is reported
    this way only, with no update for its tasks (``MasterTest.UnreachableTaskAfterFailover``)."""
    engine.offers.drop_agent(agent_id)
    tasks = [(t.task_id, t.agent_id) for t in engine.running if t.agent_id == agent_id]
    if tasks:
        log.warning("agent %s lost: reconciling its %d task(s)", agent_id, len(tasks))
        ask(engine, tasks, now)


def ask_again(engine: Engine, now: float) -> None:
    """Unanswered tasks: asked again when due; past ``reconcile_no_answer_seconds`` they count as
    unreachable since they were first asked (their grace period runs from then)."""
    pending = engine.reconciliation
    for task_id in [t for t in pending.task_ids() if engine.running.get(t) is None]:
        pending.forget(task_id)
    for task_id, first in pending.overdue(now):
        task = engine.running.get(task_id)
        if task is None:
            continue
        if task.unreachable_since is None or first < task.unreachable_since:
            task.unreachable_since = first
        log.warning(
            "no reconciliation answer for task %s of job %s (shard %s, agent %s) in %.0f s: treated "
            "as unreachable; lost at %s unless the master answers",
            task.task_id,
            task.job_name,
            task.item,
            task.agent_id,
            now - first,
            _clock(first + engine.config.unreachable_grace_seconds),
        )
    due = pending.due(now)
    if due and engine.driver is not None and engine.subscribed:
        engine.driver.reconcile(due)


def log_stalls(engine: Engine, ready: dict[str, tuple[int, int]]) -> None:
    """A job whose queued runs wait for a task the master has not confirmed is stalled: said
    once per such task, with when it will count as lost (the queue is ``/api/job/tasks/ready``)."""
    for name, entry in ready.items():
        job = engine.catalog.jobs.get(name)
        if entry[0] <= 0 or not engine.running.is_job_running(name) or (job and overlaps(job)):
            continue  # nothing queued, nothing it waits for, or it does not wait (ALLOW)
        for task in engine.running.of_job(name):
            in_doubt = task.unreachable_since is not None or task.task_id in engine.reconciliation
            if not in_doubt or task.task_id in engine.stall_logged:
                continue
            if len(engine.stall_logged) > 10_000:
                engine.stall_logged.clear()
            engine.stall_logged.add(task.task_id)
            since = task.unreachable_since
            until = (
                f"it counts as lost at {_clock(since + engine.config.unreachable_grace_seconds)}"
                if since is not None
                else "waiting for the master's answer"
            )
            log.warning(
                "job %s stalled: %d queued run(s) wait for its task %s on agent %s, in doubt (%s)",
                name,
                entry[0],
                task.task_id,
                task.agent_id,
                until,
            )


def finish(engine: Engine, now: float) -> None:
    if engine.awaiting is not None and (not engine.awaiting or now >= engine.reconcile_deadline):
        if engine.awaiting:
            log.warning(
                "no reconciliation answer for %d task(s) yet; launching the other jobs, asking again",
                len(engine.awaiting),
            )
        engine.awaiting = None
        if engine.driver is not None:
            engine.driver.reconcile([])
        engine.enforce(Changes(jobs={t.job_name for t in engine.running}))
        engine.dirty = True


def _clock(epoch: float) -> str:
    return time.strftime("%H:%M:%S", time.localtime(epoch))
