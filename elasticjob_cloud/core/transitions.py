"""Task status → what the scheduler does: the status-update decision table, as data.

Improves on the original (see the reference, §3.8): a job failure reported by the executor is
recorded but not failed over (the task ran and the job's code said no); UNREACHABLE/UNKNOWN are
"maybe still running" until a grace period ends; STARTING and KILLING are understood; a DAEMON
task that ends for any reason other than a disable or deregistration is relaunched.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from .models import JobConfig
from .taskdata import DAEMON_BEGIN, DAEMON_COMPLETE, is_job_failure


class Action(enum.Enum):
    KEEP_RUNNING = "keep running"  # record (or keep) the task as running
    REMOVE_RUNNING = "remove running"
    FAILOVER = "queue the shard for failover"
    RELAUNCH_DAEMON = "queue the daemon job for launch"
    KILL = "kill the task"
    MARK_BUSY = "mark the daemon task busy"
    MARK_IDLE = "mark the daemon task idle"
    COUNT_SUCCESS = "count a success"
    COUNT_FAILURE = "count a failure"
    START_GRACE = "start the unreachable grace period"
    CANCEL_GRACE = "cancel the unreachable grace period"


ACTIVE = frozenset({"TASK_STAGING", "TASK_STARTING", "TASK_KILLING"})
LOST_LIKE = frozenset(
    {"TASK_LOST", "TASK_GONE", "TASK_GONE_BY_OPERATOR", "TASK_DROPPED", "TASK_ERROR", "TASK_FAILED"}
)
MAYBE_RUNNING = frozenset({"TASK_UNREACHABLE", "TASK_UNKNOWN"})
GRACE_EXPIRED = "GRACE_EXPIRED"  # not a Mesos state: the scheduler's own event after the grace period


@dataclass(frozen=True)
class Decision:
    actions: tuple[Action, ...]
    reason: str


def decide(state: str, message: str | None, job: JobConfig | None, disabled: bool) -> Decision:
    """What to do with a status update of a task of ``job`` (None: deregistered)."""
    if state in ACTIVE:
        return Decision((Action.KEEP_RUNNING, Action.CANCEL_GRACE), f"{state}: still active")
    if state == "TASK_RUNNING":
        if job is None:
            return Decision((Action.KILL,), "running task of a deregistered job")
        actions = [Action.KEEP_RUNNING, Action.CANCEL_GRACE]
        if message == DAEMON_BEGIN:
            actions.append(Action.MARK_BUSY)
        elif message == DAEMON_COMPLETE:
            actions += [Action.MARK_IDLE, Action.COUNT_SUCCESS]
        elif is_job_failure(message):  # one execution of a daemon failed; the task goes on
            actions += [Action.MARK_IDLE, Action.COUNT_FAILURE]
        return Decision(tuple(actions), "running")
    if state in MAYBE_RUNNING:
        return Decision((Action.KEEP_RUNNING, Action.START_GRACE), f"{state}: maybe still running")
    relaunch = job is not None and job.is_daemon and not disabled
    if state == "TASK_FINISHED":
        actions = [Action.REMOVE_RUNNING, Action.CANCEL_GRACE, Action.COUNT_SUCCESS]
        return Decision(tuple(actions + ([Action.RELAUNCH_DAEMON] if relaunch else [])), "finished")
    if state == "TASK_KILLED":
        actions = [Action.REMOVE_RUNNING, Action.CANCEL_GRACE]
        return Decision(tuple(actions + ([Action.RELAUNCH_DAEMON] if relaunch else [])), "killed")
    if state == "TASK_FAILED" and is_job_failure(message):
        actions = [Action.REMOVE_RUNNING, Action.CANCEL_GRACE, Action.COUNT_FAILURE]
        if job is not None and job.is_daemon and not disabled:
            actions.append(Action.FAILOVER)
        return Decision(tuple(actions), "the job reported a failure: recorded, not failed over")
    if state in LOST_LIKE or state == GRACE_EXPIRED:
        actions = [Action.REMOVE_RUNNING, Action.CANCEL_GRACE, Action.COUNT_FAILURE]
        if job is not None and not disabled and (job.failover or job.is_daemon):
            actions.append(Action.FAILOVER)
        return Decision(tuple(actions), f"{state}: the task is gone")
    return Decision((Action.KEEP_RUNNING,), f"unknown state {state}: kept as is")
