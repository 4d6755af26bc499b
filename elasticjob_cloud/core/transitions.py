"""Task status → what the scheduler does: the status-update decision table, as data.

Improves on the original (see the reference, §3.8): a job's own failure is recorded but not failed
over (the task ran and the job's code said no), whichever executor ran it: the framework's executor
marks it ``JOB_FAILURE:``, and the Mesos command executor reports its command's non-zero exit as
TASK_FAILED from SOURCE_EXECUTOR (a crash of that executor, or a lost agent, comes from the agent or
the master instead). Failing over such a failure relaunched a failing script forever. A shard that
keeps being failed over waits longer each time (:func:`failover_delay`). UNREACHABLE is "maybe
still running" until a grace period ends. UNKNOWN is lost at once: a Mesos master answers it for a
task whose agent it does not know at all (``Master::reconcile`` case 6: not registered, not
recovered from the registry, not unreachable, not gone), and such an agent cannot come back with
the task (a master with a registry refuses it; after a restart without one the old agents are
gone); waiting a grace period for it stalled a job's runs for minutes after a restart (issue #12).
STARTING and KILLING are understood; a DAEMON
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
    {
        "TASK_LOST",
        "TASK_GONE",
        "TASK_GONE_BY_OPERATOR",
        "TASK_DROPPED",
        "TASK_ERROR",
        "TASK_FAILED",
        "TASK_UNKNOWN",
    }
)
MAYBE_RUNNING = frozenset({"TASK_UNREACHABLE"})
GRACE_EXPIRED = "GRACE_EXPIRED"  # not a Mesos state: the scheduler's own event after the grace period
# Reasons an executor's TASK_FAILED carries when the task's own command failed: none (Mesos's command
# executor, most executors), or the one the local Mesos's command executor sets.
OWN_FAILURE_REASONS = frozenset({"", "REASON_COMMAND_EXECUTOR_FAILED"})
# How a Mesos command executor describes a command killed by a signal. A command task runs the
# framework's task runner, which turns every end of the job (a signal included) into an exit status;
# so a command that died of a signal is the runner itself killed from outside (an operator, the OOM
# killer, a crash): a loss, failed over with back-off like any other, not the job's own failure.
KILLED_BY_SIGNAL = "Command terminated with signal"
FAILOVER_BACKOFF_BASE = 1.0  # seconds before the second failover of a shard in a row; doubles after
FAILOVER_BACKOFF_MAX = 60.0


def job_failed(state: str, message: str | None, reason: str | None, source: str | None) -> bool:
    """Did the job itself fail (its code raised, its command exited non-zero), rather than its task
    being lost? Only the executor that ran the task can say so; the agent and the master report
    losses (an executor crash, an agent gone, a refused launch)."""
    if state != "TASK_FAILED":
        return False
    if is_job_failure(message):
        return True
    if (message or "").startswith(KILLED_BY_SIGNAL):
        return False
    return source == "SOURCE_EXECUTOR" and (reason or "") in OWN_FAILURE_REASONS


def failover_delay(attempt: int) -> float:
    """Seconds a shard waits before its ``attempt``-th failover in a row: the first at once (a lost
    agent should cost nothing), then 1 s, 2 s, 4 s ... up to a minute, so a task that is lost again
    and again (a broken agent, an app that crashes its executor) cannot relaunch in a tight loop."""
    if attempt <= 1:
        return 0.0
    return min(FAILOVER_BACKOFF_BASE * 2.0 ** min(attempt - 2, 32), FAILOVER_BACKOFF_MAX)


@dataclass(frozen=True)
class Decision:
    actions: tuple[Action, ...]
    reason: str


def decide(
    state: str,
    message: str | None,
    job: JobConfig | None,
    disabled: bool,
    reason: str | None = None,
    source: str | None = None,
) -> Decision:
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
    if job_failed(state, message, reason, source):
        actions = [Action.REMOVE_RUNNING, Action.CANCEL_GRACE, Action.COUNT_FAILURE]
        if job is not None and job.is_daemon and not disabled:  # desired state: a daemon runs again
            actions.append(Action.FAILOVER)
            return Decision(tuple(actions), "the job failed: the daemon is relaunched")
        return Decision(tuple(actions), "the job failed: recorded, not failed over")
    if state in LOST_LIKE or state == GRACE_EXPIRED:
        actions = [Action.REMOVE_RUNNING, Action.CANCEL_GRACE, Action.COUNT_FAILURE]
        if job is not None and not disabled and (job.failover or job.is_daemon):
            actions.append(Action.FAILOVER)
        return Decision(tuple(actions), f"{state}: the task is gone")
    return Decision((Action.KEEP_RUNNING,), f"unknown state {state}: kept as is")
