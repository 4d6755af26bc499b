"""The engine's running tasks (``mesos.running``): one task per shard in the shard's own record, the
tasks of overlapping runs (``concurrencyPolicy`` ALLOW) beside it under their task IDs."""

from elasticjob_cloud.core.ports import RunningEntry
from elasticjob_cloud.mesos.running import RunningTask, RunningTasks


def task_id(item: int, last: str) -> str:
    return f"job@-@{item}@-@READY@-@S0@-@{last}"


def new_task(tasks: RunningTasks, item: int, last: str) -> RunningTask:
    tid = task_id(item, last)
    task = RunningTask(tid, "job", item, "S0", "app", None, None)
    task.record = tasks.record_for("job", item, tid)
    tasks.add(task)
    return task


def test_a_free_shard_gives_its_own_record_and_a_taken_one_the_tasks_id():
    tasks = RunningTasks()
    first = new_task(tasks, 0, "a")
    second = new_task(tasks, 0, "b")
    assert (first.record, second.record) == (None, second.task_id)
    assert tasks.at("job", 0) is first and tasks.at("job", 1) is None
    assert {t.task_id for t in tasks.of_job("job")} == {first.task_id, second.task_id}


def test_the_shard_stays_running_while_an_overlapping_task_runs_and_its_slot_is_free_again():
    tasks = RunningTasks()
    first = new_task(tasks, 0, "a")
    second = new_task(tasks, 0, "b")
    tasks.remove(first.task_id)
    assert tasks.at("job", 0) is second and tasks.is_job_running("job")
    third = new_task(tasks, 0, "c")
    assert third.record is None  # the shard's own record is free again
    tasks.remove(second.task_id)
    tasks.remove(third.task_id)
    assert tasks.at("job", 0) is None and not tasks.is_job_running("job") and len(tasks) == 0


def test_a_new_leader_loads_both_kinds_of_record():
    tasks = RunningTasks()
    overlapping = task_id(0, "b")
    tasks.load(
        [RunningEntry("job", 0, task_id(0, "a")), RunningEntry("job", 0, overlapping, overlapping)],
        ["job"],
        {"job": "app"},
    )
    loaded = tasks.get(overlapping)
    assert loaded is not None and loaded.record == overlapping and loaded.state == "TASK_UNKNOWN"
    assert tasks.at("job", 0).task_id == task_id(0, "a")
    assert tasks.record_for("job", 0, "x") == "x"
