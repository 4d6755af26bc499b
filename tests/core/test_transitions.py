"""The status-update decision table, row by row."""

import itertools

import pytest

from elasticjob_cloud.core.models import ExecutionType, JobConfig, JobType
from elasticjob_cloud.core.taskdata import job_failure_message
from elasticjob_cloud.core.transitions import (
    FAILOVER_BACKOFF_MAX,
    GRACE_EXPIRED,
    Action,
    decide,
    failover_delay,
)

A = Action


def job(daemon=False, failover=False):
    kind = ExecutionType.DAEMON if daemon else ExecutionType.TRANSIENT
    return JobConfig("j", "app", JobType.SIMPLE, kind, "0 * * * * ?", 2, 1.0, 1.0, "a.B", failover=failover)


ROWS = [
    # (state, message, job, disabled, must include, must exclude)
    ("TASK_STAGING", None, job(), False, {A.KEEP_RUNNING}, {A.REMOVE_RUNNING}),
    ("TASK_STARTING", None, job(), False, {A.KEEP_RUNNING}, {A.REMOVE_RUNNING}),
    ("TASK_KILLING", None, job(), False, {A.KEEP_RUNNING}, {A.RELAUNCH_DAEMON}),
    ("TASK_RUNNING", None, job(), False, {A.KEEP_RUNNING, A.CANCEL_GRACE}, {A.KILL}),
    ("TASK_RUNNING", None, None, False, {A.KILL}, {A.KEEP_RUNNING}),
    ("TASK_RUNNING", "BEGIN", job(daemon=True), False, {A.MARK_BUSY}, {A.COUNT_SUCCESS}),
    ("TASK_RUNNING", "COMPLETE", job(daemon=True), False, {A.MARK_IDLE, A.COUNT_SUCCESS}, set()),
    (
        "TASK_FINISHED",
        None,
        job(),
        False,
        {A.REMOVE_RUNNING, A.COUNT_SUCCESS},
        {A.FAILOVER, A.RELAUNCH_DAEMON},
    ),
    ("TASK_FINISHED", None, job(daemon=True), False, {A.RELAUNCH_DAEMON}, set()),
    ("TASK_KILLED", None, job(), False, {A.REMOVE_RUNNING}, {A.RELAUNCH_DAEMON, A.FAILOVER}),
    ("TASK_KILLED", None, job(daemon=True), False, {A.REMOVE_RUNNING, A.RELAUNCH_DAEMON}, set()),
    ("TASK_KILLED", None, job(daemon=True), True, {A.REMOVE_RUNNING}, {A.RELAUNCH_DAEMON}),
    ("TASK_KILLED", None, None, False, {A.REMOVE_RUNNING}, {A.RELAUNCH_DAEMON}),
    ("TASK_FAILED", job_failure_message("boom"), job(failover=True), False, {A.COUNT_FAILURE}, {A.FAILOVER}),
    ("TASK_FAILED", job_failure_message("boom"), job(daemon=True), False, {A.FAILOVER}, set()),
    ("TASK_FAILED", "Executor terminated", job(failover=True), False, {A.FAILOVER, A.COUNT_FAILURE}, set()),
    ("TASK_FAILED", "Executor terminated", job(failover=False), False, {A.REMOVE_RUNNING}, {A.FAILOVER}),
    ("TASK_LOST", None, job(failover=True), False, {A.REMOVE_RUNNING, A.FAILOVER}, set()),
    ("TASK_LOST", None, job(failover=True), True, {A.REMOVE_RUNNING}, {A.FAILOVER}),
    ("TASK_LOST", None, None, False, {A.REMOVE_RUNNING}, {A.FAILOVER}),
    ("TASK_GONE", None, job(daemon=True), False, {A.FAILOVER}, set()),
    ("TASK_GONE_BY_OPERATOR", None, job(failover=True), False, {A.FAILOVER}, set()),
    ("TASK_DROPPED", None, job(failover=True), False, {A.FAILOVER}, set()),
    ("TASK_ERROR", None, job(failover=True), False, {A.FAILOVER}, set()),
    ("TASK_UNREACHABLE", None, job(failover=True), False, {A.KEEP_RUNNING, A.START_GRACE}, {A.FAILOVER}),
    ("TASK_UNKNOWN", None, job(failover=True), False, {A.REMOVE_RUNNING, A.FAILOVER}, {A.START_GRACE}),
    (GRACE_EXPIRED, None, job(failover=True), False, {A.REMOVE_RUNNING, A.FAILOVER}, set()),
    (GRACE_EXPIRED, None, job(failover=False), False, {A.REMOVE_RUNNING}, {A.FAILOVER}),
]


@pytest.mark.parametrize(("state", "message", "the_job", "disabled", "include", "exclude"), ROWS)
def test_decision_table(state, message, the_job, disabled, include, exclude):
    actions = set(decide(state, message, the_job, disabled).actions)
    assert include <= actions, actions
    assert not (exclude & actions), actions


# A failing command under the command executor says so as the executor (SOURCE_EXECUTOR); an
# executor that dies, an agent that goes, a launch that fails are reported by the agent or master.
SOURCED = [
    # (message, reason, source, failed over)
    ("Command exited with status 1", None, "SOURCE_EXECUTOR", False),
    ("Command exited with status 1", "REASON_COMMAND_EXECUTOR_FAILED", "SOURCE_EXECUTOR", False),
    # the command task's runner turns the job's every end into an exit status: a signal killed the
    # runner itself (an operator, the OOM killer), a loss
    ("Command terminated with signal SIGKILL", "REASON_COMMAND_EXECUTOR_FAILED", "SOURCE_EXECUTOR", True),
    ("Command terminated with signal SIGSEGV", None, "SOURCE_EXECUTOR", True),
    (job_failure_message("boom"), None, "SOURCE_EXECUTOR", False),
    ("Executor terminated", "REASON_EXECUTOR_TERMINATED", "SOURCE_AGENT", True),
    ("Executor terminated", "REASON_COMMAND_EXECUTOR_FAILED", "SOURCE_SLAVE", True),
    ("Failed to launch: no such file", "REASON_CONTAINER_LAUNCH_FAILED", "SOURCE_EXECUTOR", True),
    ("Reconciliation: latest task state", "REASON_RECONCILIATION", "SOURCE_MASTER", True),
    (None, None, None, True),
]


@pytest.mark.parametrize(("message", "reason", "source", "failed_over"), SOURCED)
def test_a_jobs_own_failure_is_never_failed_over_whichever_executor_ran_it(
    message, reason, source, failed_over
):
    decision = decide("TASK_FAILED", message, job(failover=True), False, reason, source)
    assert (A.FAILOVER in decision.actions) is failed_over, decision
    assert {A.REMOVE_RUNNING, A.COUNT_FAILURE} <= set(decision.actions)


def test_a_daemon_whose_job_failed_is_still_relaunched():
    decision = decide(
        "TASK_FAILED", "Command exited with status 1", job(daemon=True), False, None, "SOURCE_EXECUTOR"
    )
    assert A.FAILOVER in decision.actions


def test_repeated_failovers_back_off_exponentially_up_to_a_cap():
    delays = [failover_delay(n) for n in range(1, 12)]
    assert delays[:4] == [0.0, 1.0, 2.0, 4.0]
    assert all(b >= a for a, b in itertools.pairwise(delays))
    assert delays[-1] == FAILOVER_BACKOFF_MAX == failover_delay(10_000)
