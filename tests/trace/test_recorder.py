"""What the scheduler sees → trace rows (pure: rows collected in a list)."""

from __future__ import annotations

from datetime import UTC

from elasticjob_cloud.core.ports import LaunchedTask
from elasticjob_cloud.trace.recorder import TraceRecorder
from elasticjob_cloud.trace.rows import EXEC_COMPLETE, EXEC_START, FIRE, STATUS

READY = "job_a@-@0@-@READY@-@S1@-@u1"
FAILOVER = "job_a@-@0@-@FAILOVER@-@S2@-@u2"
DAEMON = "daemon_a@-@1@-@READY@-@S1@-@u3"


def update(
    task: str, state: str, message: str | None = None, at: float = 100.0, uuid: str = "", executor=True
):
    status = {"task_id": {"value": task}, "state": state, "agent_id": {"value": "S1"}, "timestamp": at}
    if message is not None:
        status["message"] = message
    if executor:
        status["source"] = "SOURCE_EXECUTOR"
    if uuid:
        status["uuid"] = uuid
    return status


def recorder():
    rows = []
    return TraceRecorder(rows.append, UTC), rows


def of(rows, kind):
    return [r.values for r in rows if r.kind == kind]


def test_a_transient_task_gives_staging_running_finished_and_one_execution():
    trace, rows = recorder()
    trace.launched([LaunchedTask(READY, "agent-1", "10.0.0.1", daemon=False)], 99.0)
    trace.status(update(READY, "TASK_RUNNING", at=100.0), 100.0)
    trace.status(update(READY, "TASK_FINISHED", at=103.0), 103.5)
    statuses = of(rows, STATUS)
    assert [(s["state"], s["source"]) for s in statuses] == [
        ("TASK_STAGING", "CLOUD_SCHEDULER"), ("TASK_RUNNING", "CLOUD_EXECUTOR"), ("TASK_FINISHED", "CLOUD_EXECUTOR"),
    ]  # fmt: skip
    assert statuses[1]["slave_id"] == "S1" and statuses[1]["sharding_item"] == "[0]"
    start, done = of(rows, EXEC_START), of(rows, EXEC_COMPLETE)
    assert len(start) == 1 and len(done) == 1 and start[0]["id"] == done[0]["id"]
    assert (done[0]["hostname"], done[0]["ip"], done[0]["execution_source"]) == (
        "agent-1",
        "10.0.0.1",
        "NORMAL_TRIGGER",
    )
    assert done[0]["is_success"] == 1 and done[0]["failure_cause"] is None
    assert (done[0]["complete_time"] - done[0]["start_time"]).total_seconds() == 3.5


def test_a_failed_task_keeps_its_message_truncated_at_4000():
    trace, rows = recorder()
    trace.launched([LaunchedTask(READY, "h", "ip", daemon=False)], 99.0)
    trace.status(update(READY, "TASK_RUNNING"), 100.0)
    trace.status(update(READY, "TASK_FAILED", "JOB_FAILURE: " + "x" * 5000), 101.0)
    done = of(rows, EXEC_COMPLETE)[0]
    assert done["is_success"] == 0 and len(done["failure_cause"]) == 4000
    assert done["failure_cause"].startswith("xxx")
    assert len(of(rows, STATUS)[-1]["message"]) == 4000


def test_a_failover_task_carries_its_original_task_id_on_every_row():
    trace, rows = recorder()
    trace.launched([LaunchedTask(FAILOVER, "h", "ip", daemon=False, original_task_id=READY)], 99.0)
    trace.status(update(FAILOVER, "TASK_RUNNING"), 100.0)
    assert {s["original_task_id"] for s in of(rows, STATUS)} == {READY}
    assert {s["execution_type"] for s in of(rows, STATUS)} == {"FAILOVER"}
    assert of(rows, EXEC_START)[0]["execution_source"] == "FAILOVER"


def test_a_run_that_fired_while_the_previous_one_ran_is_a_misfire_for_all_its_shards():
    trace, rows = recorder()
    trace.launched([LaunchedTask(READY, "h", "ip", daemon=False)], 99.0)
    trace.fired("job_a", "FIRE", 100.0, 1, 0, 1, 100.0)  # while READY still runs
    trace.status(update(READY, "TASK_FINISHED"), 101.0)
    second = ["job_a@-@0@-@READY@-@S1@-@u9", "job_a@-@1@-@READY@-@S2@-@u10"]
    trace.launched([LaunchedTask(second[0], "h", "ip", daemon=False)], 102.0)
    trace.launched([LaunchedTask(second[1], "h", "ip", daemon=False)], 102.0)  # same round, other agent
    third = "job_a@-@0@-@READY@-@S1@-@u11"
    trace.launched([LaunchedTask(third, "h", "ip", daemon=False)], 110.0)
    for task in [*second, third]:
        trace.status(update(task, "TASK_RUNNING"), 111.0)
    sources = {e["task_id"]: e["execution_source"] for e in of(rows, EXEC_START)}
    assert sources == {second[0]: "MISFIRE", second[1]: "MISFIRE", third: "NORMAL_TRIGGER"}
    assert of(rows, FIRE)[0]["kind"] == "FIRE"


def test_daemon_executions_are_begin_to_complete_and_a_failure_is_one_too():
    trace, rows = recorder()
    trace.launched([LaunchedTask(DAEMON, "h", "ip", daemon=True)], 99.0)
    trace.status(update(DAEMON, "TASK_RUNNING", at=100.0, uuid="a"), 100.0)
    trace.status(update(DAEMON, "TASK_RUNNING", "BEGIN", at=101.0, uuid="b"), 101.0)
    trace.status(update(DAEMON, "TASK_RUNNING", "COMPLETE", at=102.0, uuid="c"), 102.0)
    trace.status(update(DAEMON, "TASK_RUNNING", "BEGIN", at=103.0, uuid="d"), 103.0)
    trace.status(update(DAEMON, "TASK_RUNNING", "JOB_FAILURE: bad", at=104.0, uuid="e"), 104.0)
    trace.status(update(DAEMON, "TASK_RUNNING", "BEGIN", at=105.0, uuid="f"), 105.0)
    trace.status(update(DAEMON, "TASK_KILLED", at=106.0, uuid="g"), 106.0)
    starts, dones = of(rows, EXEC_START), of(rows, EXEC_COMPLETE)
    assert len(starts) == 3 and len(dones) == 3
    assert [d["is_success"] for d in dones] == [1, 0, 0]
    assert [d["failure_cause"] for d in dones] == [None, "bad", "TASK_KILLED"]
    assert len({s["id"] for s in starts}) == 3


def test_a_status_resent_by_the_agent_gives_the_same_row_id():
    trace, rows = recorder()
    trace.status(update(READY, "TASK_RUNNING", uuid="same"), 100.0)
    trace.status(update(READY, "TASK_RUNNING", uuid="same"), 101.0)
    assert len({s["id"] for s in of(rows, STATUS)}) == 1


def test_the_final_state_of_another_leaders_task_completes_that_execution():
    trace, rows = recorder()
    trace.status(update(READY, "TASK_FINISHED"), 100.0)
    done = of(rows, EXEC_COMPLETE)
    assert len(done) == 1 and done[0]["is_success"] == 1
    trace.status(update("not-a-task-id", "TASK_RUNNING"), 100.0)
    assert len(rows) == 2


def test_a_task_the_scheduler_gives_up_on_is_a_lost_execution():
    trace, rows = recorder()
    trace.launched([LaunchedTask(READY, "h", "ip", daemon=False)], 99.0)
    trace.status(update(READY, "TASK_RUNNING"), 100.0)
    trace.status(
        {"task_id": {"value": READY}, "state": "TASK_LOST", "message": "unreachable for 300s"}, 400.0
    )
    assert of(rows, STATUS)[-1]["source"] == "CLOUD_SCHEDULER"
    done = of(rows, EXEC_COMPLETE)[0]
    assert done["is_success"] == 0 and done["failure_cause"] == "TASK_LOST: unreachable for 300s"
