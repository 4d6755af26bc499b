import json
import shlex

from elasticjob_cloud.core.models import AppConfig, ExecutionType, JobConfig, JobType, TaskId, TaskType
from elasticjob_cloud.core.taskdata import decode_app_data, decode_task_data
from elasticjob_cloud.core.taskinfo import task_info

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
    assert executor["executor_id"] == {"value": "foo_app@-@S0"}
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


def test_transient_script_runs_under_the_command_executor_with_quoted_json():
    script = job(job_type=JobType.SCRIPT, script_command_line="bin/run.sh --x", job_class="")
    info = task_info(script, APP, TaskId("foo_job", 2, TaskType.FAILOVER, "S1", "u"))
    assert "executor" not in info
    command = info["command"]
    assert command["uris"] == [
        {"value": "http://repo/foo.tar.gz", "cache": False, "extract": True, "executable": False}
    ]
    argv = shlex.split(command["value"])
    assert argv[:2] == ["bin/run.sh", "--x"]
    assert json.loads(argv[2]) == {
        "jobName": "foo_job",
        "taskId": "foo_job@-@2@-@FAILOVER@-@S1@-@u",
        "shardingTotalCount": 3,
        "jobParameter": "p",
        "shardingItem": 2,
        "shardingParameter": '"q"',
    }


def test_bare_script_app_is_made_executable():
    bare = AppConfig("s", "file:///srv/run.sh", "run.sh")
    info = task_info(job(job_type=JobType.SCRIPT, script_command_line="./run.sh"), bare, TASK)
    assert info["command"]["uris"][0]["executable"] is True
    assert info["command"]["uris"][0]["extract"] is False
