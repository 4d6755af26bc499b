"""Status updates → the engine's running state, failover queue, relaunches and kills.

The decision table is ``core.transitions.decide``; this module applies its actions. Rules on top:
- an update of a task we do not know (another leader launched it, or implicit reconciliation found
  it): adopted when it is active and its shard is free and launchable (and a failover entry queued for
  that very task is withdrawn: it was thought never to have run), killed when its shard already
  runs as another task or its job is gone or disabled; a final state of an unknown task is only logged;
- UNREACHABLE starts a grace period (``unreachable_grace_seconds``; UNKNOWN is lost at once); when it ends without news
  the task is treated as lost (the original left such tasks "running" forever);
- every end of a task other than TASK_FINISHED is logged at WARNING, with the job, shard, task,
  agent, the update's message, reason and source, and what the scheduler does about it: a failed
  job or a lost task must be visible to an operator reading the scheduler's log.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from ..core.models import TaskId
from ..core.planning import overlaps
from ..core.ports import RunningEntry
from ..core.transitions import ACTIVE, GRACE_EXPIRED, MAYBE_RUNNING, Action, decide
from ..exceptions import RegistryUnavailable
from . import engine_failover, executor_versions
from .retries import retry_if_failed
from .running import RunningTask

if TYPE_CHECKING:
    from .engine import Engine

log = logging.getLogger(__name__)

STILL_ALIVE = ACTIVE | MAYBE_RUNNING | {"TASK_RUNNING"}
# what a master answers about a task it never launched (asked with the agent ID: TASK_GONE when
# partition-aware, else TASK_LOST; TASK_UNKNOWN when it does not know the agent; TASK_DROPPED when
# the ACCEPT came but its offers were void)
NEVER_LAUNCHED = frozenset({"TASK_GONE", "TASK_UNKNOWN", "TASK_LOST", "TASK_DROPPED"})


class StatusHandler:
    def __init__(self, engine: Engine):
        self.engine = engine

    def on_status(self, status: dict[str, Any], now: float) -> None:
        engine = self.engine
        task_id = str(status.get("task_id", {}).get("value", ""))
        state = str(status.get("state", ""))
        engine.answered(task_id, now)
        engine.unacknowledged.append(status)
        engine.trace.status(engine.time_limits.traced(status), now)  # a timed-out end says so
        if engine.listener is not None:
            engine.listener("status", status, now)
        task = engine.running.get(task_id)
        if task is None:
            self._unknown(task_id, state, status, now)
            return
        if state in NEVER_LAUNCHED and not engine.fence.final(task_id, status.get("reason")):
            log.info(
                "%s %s for a launch in doubt not fenced yet: not final (see launch_fence)", task_id, state
            )
            return
        if engine.in_doubt.pop(task_id, None) is not None or engine.fence.forget(task_id):  # answer lost
            if state in NEVER_LAUNCHED:
                engine_failover.never_launched(engine, task, now, f"the master answered {state}")
                return
            log.info("launch of %s in doubt: the master has it (%s), not launched again", task_id, state)
        if task.executor_id is None and status.get("executor_id"):  # loaded after a leader change
            task.executor_id = str(status["executor_id"].get("value") or "") or None
        if state == "TASK_UNREACHABLE" and task.unreachable_since is None:
            # the grace period runs from when the master lost the agent, not from when this leader
            # heard of it: a leader change in between does not start it again
            task.unreachable_since = _unreachable_time(status, now)
        self.apply(task, state, status.get("message"), now, status.get("reason"), status.get("source"))

    def apply(
        self,
        task: RunningTask,
        state: str,
        message: str | None,
        now: float,
        reason: str | None = None,
        source: str | None = None,
    ) -> None:
        engine = self.engine
        job = engine.catalog.jobs.get(task.job_name)
        decision = decide(state, message, job, engine.catalog.is_disabled(task.job_name), reason, source)
        if state in STILL_ALIVE or state == "TASK_FINISHED":
            log.debug("%s %s: %s", task.task_id, state, decision.reason)
        else:
            ended = (task.job_name, task.item, task.task_id, task.agent_id, state)
            _warn_ended(*ended, message, reason, source, decision.reason)
        counters = engine.stats.counters
        counters[state] += 1
        for action in decision.actions:
            if action is Action.KEEP_RUNNING:
                task.state = state
            elif action is Action.REMOVE_RUNNING:
                engine.dependencies.task_ended(task, state, now)  # before its running record goes
                engine.finish(task)
                executor_versions.retire_if_stale(engine, task.executor_id, task.agent_id)
                engine.forget_job_node(task.job_name)
                engine.dirty = True  # the job may launch its next queued run
            elif action is Action.FAILOVER:
                engine_failover.add_failover(engine, task, now)
            elif action is Action.RELAUNCH_DAEMON:
                engine.dirty = True  # desired state: the launcher starts the missing shard
            elif action is Action.KILL:
                engine.kill(task, decision.reason)
            elif action is Action.MARK_BUSY:
                task.idle = False
            elif action is Action.MARK_IDLE:
                task.idle = True
            elif action is Action.COUNT_SUCCESS:
                engine.stats.finished += 1
                engine_failover.end_streak(engine, task)
            elif action is Action.COUNT_FAILURE:
                engine.stats.failed += 1
            elif action is Action.START_GRACE:
                if task.unreachable_since is None:
                    task.unreachable_since = now
            elif action is Action.CANCEL_GRACE:
                task.unreachable_since = None
        retry_if_failed(engine, task, job, state, (message, reason, source), now)  # issue #17's retry

    def _unknown(self, task_id: str, state: str, status: dict[str, Any], now: float) -> None:
        engine = self.engine
        try:
            parsed = TaskId.parse(task_id)
        except ValueError:
            log.warning("status %s of a task that is not ours: %s", state, task_id)
            return
        if state not in STILL_ALIVE:
            if state != "TASK_FINISHED":
                agent = str(status.get("agent_id", {}).get("value", parsed.agent_id))
                ended = (parsed.job_name, parsed.sharding_item, task_id, agent, state)
                details = (status.get("message"), status.get("reason"), status.get("source"))
                _warn_ended(*ended, *details, "a task no longer tracked: nothing to do")
            return
        agent = str(status.get("agent_id", {}).get("value", parsed.agent_id))
        job = engine.catalog.launchable(parsed.job_name)
        current = engine.running.at(parsed.job_name, parsed.sharding_item)
        app = job.app_name if job else ""
        task = RunningTask(
            task_id, parsed.job_name, parsed.sharding_item, agent, app, None, None, state=state
        )
        if job is None or (current is not None and not overlaps(job)):
            why = (
                "its job is gone or disabled"
                if job is None
                else f"shard already runs as {current and current.task_id}"
            )
            engine.kill(task, f"unknown task: {why}")
            return
        reported = status.get("executor_id", {}).get("value")
        task.executor_id = str(reported) if reported else executor_versions.of_job(engine, job, agent)
        log.info("adopting running task %s", task_id)
        create_job_node = engine.running.needs_job_node(task.job_name)
        engine.running.job_nodes.add(task.job_name)
        task.record = engine.running.record_for(task.job_name, task.item, task_id)  # ALLOW: maybe another's
        engine.running.add(task)
        entry = RunningEntry(task.job_name, task.item, task_id, task.record)
        engine.writes.record_task(entry, create_job_node)
        try:  # queued for failover because we thought it never ran: it must not run twice
            if engine.registry.failover.withdraw(task.job_name, task.item, task_id):
                log.info("failover of %s withdrawn: the task runs", task_id)
        except RegistryUnavailable as exc:
            log.warning("failover entry of %s not withdrawn: %s", task_id, exc)
        self.apply(task, state, status.get("message"), now, status.get("reason"), status.get("source"))

    def expire_grace(self, now: float) -> None:
        grace = self.engine.config.unreachable_grace_seconds
        for task in self.engine.running:
            if task.unreachable_since is not None and now - task.unreachable_since >= grace:
                log.warning("%s unreachable for %.0fs: treated as lost", task.task_id, grace)
                why = f"unreachable for {grace:.0f}s: treated as lost by the scheduler"
                self.engine.trace.status(  # the scheduler's own final state of the task
                    {"task_id": {"value": task.task_id}, "state": "TASK_LOST", "message": why}, now
                )
                self.apply(task, GRACE_EXPIRED, None, now)


def _unreachable_time(status: dict[str, Any], now: float) -> float:
    nanos = (status.get("unreachable_time") or {}).get("nanoseconds")
    try:
        return min(now, float(nanos) / 1e9) if nanos is not None else now
    except (TypeError, ValueError):
        return now


def _warn_ended(
    job: str,
    item: int,
    task_id: str,
    agent: str,
    state: str,
    message: str | None,
    reason: str | None,
    source: str | None,
    outcome: str,
) -> None:
    log.warning(
        "%s: job %s shard %s task %s on agent %s: %s (%s, %s); %s",
        state,
        job,
        item,
        task_id,
        agent,
        message or "no message",
        reason or "no reason",
        source or "no source",
        outcome,
    )
