import json

from elasticjob_cloud.core.models import AppConfig, ExecutionType, JobConfig, JobType, TaskId, TaskType
from elasticjob_cloud.core.taskdata import (
    ENV_APP_DATA,
    ENV_TASK_DATA,
    decode_app_data,
    decode_task_data,
    env_joined,
)
from elasticjob_cloud.core.taskinfo import TaskInfos, task_info

APP = AppConfig("foo_app", "http://repo/foo.tar.gz", "bin/start.sh", 0.5, 64.0, False, 3)


def job(**changes):
    base = JobConfig(
        "foo_job",
        "foo_app",
        JobType.SIMPLE,
        ExecutionType.TRANSIENT,
        "0/5 * * * * ?",
        3,
        0.25,
        32.0,
        "pkg.Job",
        sharding_item_parameters='0=a,1=b c,2="q"',
        job_parameter="p",
    )
    return base.with_changes(**changes)


TASK = TaskId("foo_job", 1, TaskType.READY, "S0", "uuid-1")
OFFERED = [{"name": "cpus", "type": "SCALAR", "scalar": {"value": 4}, "role": "batch"}]


def test_custom_executor_task_carries_one_shard_and_the_app():
    info = task_info(job(), APP, TASK, OFFERED, executor_command="ejc-exec", idle_timeout_seconds=30)
    assert info["task_id"] == {"value": "foo_job@-@1@-@READY@-@S0@-@uuid-1"}
    assert info["name"] == "foo_job@-@1@-@READY@-@S0"
    assert info["resources"][0] == {
        "name": "cpus",
        "type": "SCALAR",
        "scalar": {"value": 0.25},
        "role": "batch",
    }
    executor = info["executor"]
    app_name, agent, version = executor["executor_id"]["value"].split("@-@")
    assert (app_name, agent, len(version)) == ("foo_app", "S0", 12)
    assert executor["command"] == {"value": "ejc-exec", "shell": True}
    assert [r["scalar"]["value"] for r in executor["resources"]] == [0.5, 64.0]
    app = decode_app_data(executor["data"])
    assert (app.app_url, app.bootstrap_script, app.app_cache_enable, app.executor_idle_timeout_seconds) == (
        "http://repo/foo.tar.gz",
        "bin/start.sh",
        False,
        30,
    )
    data = decode_task_data(info["data"])
    assert data.sharding_context.sharding_item_parameters == {1: "b c"}
    assert data.job_config.cron == ""  # TRANSIENT: the scheduler owns the cron


def test_executor_id_changes_with_what_the_executor_is_started_with():
    """A Mesos master refuses a changed ExecutorInfo under a running executor's ID (TASK_ERROR
    "ExecutorInfo is not compatible"): every change of the app's executor gives another ID."""

    def eid(app=APP, command="ejc-exec", idle=30.0):
        info = task_info(job(), app, TASK, OFFERED, executor_command=command, idle_timeout_seconds=idle)
        return info["executor"]["executor_id"]["value"]

    same = eid()
    assert eid() == same  # stable: tasks of one app version share their executor
    changed = [
        eid(app=AppConfig("foo_app", "http://repo/foo-2.tar.gz", "bin/start.sh", 0.5, 64.0, False, 3)),
        eid(app=AppConfig("foo_app", "http://repo/foo.tar.gz", "bin/run.sh", 0.5, 64.0, False, 3)),
        eid(app=AppConfig("foo_app", "http://repo/foo.tar.gz", "bin/start.sh", 1.0, 64.0, False, 3)),
        eid(command="other-exec"),
        eid(idle=60.0),
    ]
    assert same not in changed and len(set(changed)) == len(changed)
    assert all(e.startswith("foo_app@-@S0@-@") for e in changed)  # the app name stays the first part
    infos = TaskInfos("ejc-exec", 30.0)
    assert infos.executor_id(APP, "S0") == same


def test_daemon_task_carries_its_cron_and_zone():
    info = task_info(
        job(execution_type=ExecutionType.DAEMON, time_zone="Asia/Tokyo", misfire=True), APP, TASK
    )
    config = decode_task_data(info["data"]).job_config
    assert (config.cron, config.time_zone, config.misfire, config.job_execution_type) == (
        "0/5 * * * * ?",
        "Asia/Tokyo",
        True,
        "DAEMON",
    )


def test_daemon_without_a_zone_gets_the_schedulers():
    info = task_info(job(execution_type=ExecutionType.DAEMON), APP, TASK, default_time_zone="Europe/Berlin")
    assert decode_task_data(info["data"]).job_config.time_zone == "Europe/Berlin"


def test_transient_script_runs_under_the_command_executor_as_the_executor_program():
    """No ``sh -c`` of scriptCommandLine and no Mesos fetcher: the executor program runs the task
    with the framework executor's code, told the task data and the app by its environment."""
    script = job(job_type=JobType.SCRIPT, script_command_line="bin/run.sh --x", job_class="")
    task_id = TaskId("foo_job", 2, TaskType.FAILOVER, "S1", "u")
    info = task_info(script, APP, task_id, executor_command="ejc-exec")
    assert "executor" not in info
    command = info["command"]
    assert (command["value"], command["shell"], command.get("uris")) == ("ejc-exec", True, None)
    variables = {v["name"]: v["value"] for v in command["environment"]["variables"]}
    assert variables[ENV_TASK_DATA] == info["data"]
    data = decode_task_data(variables[ENV_TASK_DATA])
    assert (data.sharding_context.task_id, data.job_config.script_command_line) == (
        str(task_id),
        "bin/run.sh --x",
    )
    app = decode_app_data(variables[ENV_APP_DATA])
    assert (app.app_url, app.app_cache_enable) == ("http://repo/foo.tar.gz", False)


# -- TaskInfos: the round's builder keeps what repeats, and must build exactly what task_info builds


def _both(jobs, app, task_ids, offered=OFFERED, zone="Europe/Berlin"):
    infos = TaskInfos("ejc-exec", 30.0, zone)
    for each in jobs:
        for task_id in task_ids:
            expected = task_info(each, app, task_id, offered, "ejc-exec", 30.0, zone)
            assert infos.build(each, app, task_id, offered) == expected
            assert json.dumps(infos.build(each, app, task_id, offered)) == json.dumps(expected)
    return infos


def test_task_infos_equal_task_info_for_every_kind_of_job():
    kinds = [
        job(),
        job(execution_type=ExecutionType.DAEMON, time_zone="Asia/Tokyo"),
        job(execution_type=ExecutionType.DAEMON),
        job(job_type=JobType.SCRIPT, script_command_line="bin/run.sh --x", job_class=""),
        job(job_type=JobType.DATAFLOW, streaming_process=True),
        job(job_parameter='ünï "côdé" \\ \u2603', sharding_item_parameters='0=ä,1="b",2=\\n'),
        job(job_name="a.b-c_d", job_properties={"k": "v", "x": "ÿ"}),
    ]
    task_ids = [
        TaskId(j, item, kind, agent, uid)
        for j in ("foo_job", "a.b-c_d")
        for item, kind, agent, uid in ((0, TaskType.READY, "S0", "u-1"), (2, TaskType.FAILOVER, "S1", "u-2"))
    ]
    _both(kinds, APP, task_ids)
    _both(kinds, APP, task_ids, offered=[])


def test_task_infos_follow_a_changed_job_or_app():
    infos = TaskInfos("ejc-exec", 30.0)
    first = infos.build(job(), APP, TASK)
    changed_job = job(job_parameter="new")
    changed_app = AppConfig("foo_app", "http://repo/foo-2.tar.gz", "bin/start.sh", 0.5, 64.0, False, 3)
    assert infos.build(changed_job, APP, TASK) == task_info(changed_job, APP, TASK, (), "ejc-exec", 30.0)
    assert infos.build(changed_job, changed_app, TASK) == task_info(
        changed_job, changed_app, TASK, (), "ejc-exec", 30.0
    )
    assert decode_task_data(infos.build(job(), APP, TASK)["data"]) == decode_task_data(first["data"])
    assert decode_app_data(infos.build(job(), changed_app, TASK)["executor"]["data"]).app_url.endswith(
        "-2.tar.gz"
    )


def test_task_infos_start_again_past_their_limit():
    infos = TaskInfos("ejc-exec", 30.0)
    infos.LIMIT = 3
    for n in range(10):
        task_id = TaskId(f"j{n}", 0, TaskType.READY, f"S{n}", "u")
        named = job(job_name=f"j{n}")
        assert infos.build(named, APP, task_id) == task_info(named, APP, task_id, (), "ejc-exec", 30.0)
        assert len(infos._data) <= 3 and len(infos._executors) <= 3


def test_warm_prepares_every_shard_but_not_command_executor_jobs():
    infos = TaskInfos("ejc-exec", 30.0)
    infos.warm(job(), APP)
    infos.warm(
        job(job_name="script", job_type=JobType.SCRIPT, script_command_line="run.sh", job_class=""), APP
    )
    assert sorted(infos._data) == [("foo_job", 0), ("foo_job", 1), ("foo_job", 2)]
    assert infos.build(job(), APP, TASK) == task_info(job(), APP, TASK, (), "ejc-exec", 30.0)


def test_a_large_task_is_cut_into_environment_variables_linux_accepts():
    """One environment string may not exceed 128 KiB (MAX_ARG_STRLEN): 30,000 CJK characters in a
    parameter are 180 KB of JSON, so the data travels in pieces that join up again."""
    script = job(
        job_type=JobType.SCRIPT, script_command_line="run.sh", job_class="", job_parameter="中" * 30_000
    )
    info = task_info(script, APP, TASK, executor_command="ejc-exec")
    variables = {v["name"]: v["value"] for v in info["command"]["environment"]["variables"]}
    assert len(info["data"]) > 200_000 and all(len(v.encode()) < 128 * 1024 for v in variables.values())
    assert env_joined(variables, ENV_TASK_DATA) == info["data"]
    assert (
        decode_task_data(env_joined(variables, ENV_TASK_DATA)).sharding_context.job_parameter == "中" * 30_000
    )
    assert decode_app_data(env_joined(variables, ENV_APP_DATA)).app_name == "foo_app"
