"""Task and app data: the wire format shared by the scheduler and the executor."""

from __future__ import annotations

import base64
import json

import pytest

from elasticjob_cloud.core.taskdata import (
    JOB_FAILURE_PREFIX,
    AppData,
    JobConfigContext,
    ShardingContexts,
    TaskData,
    decode_app_data,
    decode_task_data,
    encode_app_data,
    encode_task_data,
    is_job_failure,
    job_failure_message,
)
from elasticjob_cloud.exceptions import InvalidConfig

TASK = TaskData(
    ShardingContexts(
        task_id="job@-@0@-@READY@-@agent@-@uuid",
        job_name="job",
        sharding_total_count=3,
        job_parameter="p",
        sharding_item_parameters={0: "A"},
        job_event_sampling_count=2,
    ),
    JobConfigContext(
        job_name="job",
        job_type="SIMPLE",
        job_execution_type="DAEMON",
        job_class="pkg.mod.Class",
        cron="0/5 * * * * ?",
        time_zone="Europe/Berlin",
        misfire=False,
        job_properties={"k": "v"},
    ),
)


def b64(document: object) -> str:
    return base64.b64encode(json.dumps(document).encode()).decode()


def task_doc(config: dict[str, object], **sharding: object) -> str:
    """Encoded task data: one valid shard (overridden by ``sharding``) and ``config``."""
    context = {"taskId": "t", "jobName": "j", "shardingTotalCount": 1, "shardingItemParameters": {"0": ""}}
    return b64({"shardingContext": {**context, **sharding}, "jobConfigContext": config})


def test_task_data_round_trips_and_matches_the_documented_wire_form() -> None:
    encoded = encode_task_data(TASK)
    assert decode_task_data(encoded) == TASK
    wire = json.loads(base64.b64decode(encoded))
    assert wire["shardingContext"] == {
        "taskId": "job@-@0@-@READY@-@agent@-@uuid",
        "jobName": "job",
        "shardingTotalCount": 3,
        "jobParameter": "p",
        "shardingItemParameters": {"0": "A"},
        "jobEventSamplingCount": 2,
    }
    assert set(wire["jobConfigContext"]) == {
        "jobName", "jobType", "jobExecutionType", "jobClass", "cron", "timeZone", "misfire",
        "streamingProcess", "scriptCommandLine", "beanName", "applicationContext", "jobProperties",
    }  # fmt: skip
    assert wire["jobConfigContext"]["misfire"] is False


def test_decoding_accepts_the_scheduler_example_with_defaults() -> None:
    data = decode_task_data(
        b64(
            {
                "shardingContext": {
                    "taskId": "t",
                    "jobName": "j",
                    "shardingTotalCount": "2",
                    "shardingItemParameters": {"1": ""},
                },
                "jobConfigContext": {"jobType": "SCRIPT", "scriptCommandLine": "bin/x.sh"},
            }
        )
    )
    assert data.sharding_context.sharding_items == [1]
    assert data.sharding_context.sharding_total_count == 2
    assert data.job_config.job_execution_type == "TRANSIENT"
    assert data.job_config.job_name == "j"
    assert data.job_config.misfire is True


def test_app_data_round_trips() -> None:
    app = AppData("app", "http://h/app.tar.gz", "bin/start.sh", False, 3, 60.0)
    assert decode_app_data(encode_app_data(app)) == app


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ("not base64!!", "taskData"),
        (base64.b64encode(b"[1,2]").decode(), "taskData"),
        (base64.b64encode(b"{bad json").decode(), "taskData"),
        (b64({"jobConfigContext": {"jobType": "SIMPLE", "jobClass": "a.B"}}), "shardingContext"),
        (
            task_doc({"jobType": "SIMPLE", "jobClass": "a.B"}, shardingTotalCount=0),
            "shardingContext.shardingTotalCount",
        ),
        (
            task_doc({"jobType": "SIMPLE", "jobClass": "a.B"}, shardingItemParameters={"x": ""}),
            "shardingContext.shardingItemParameters",
        ),
        (
            task_doc({"jobType": "SIMPLE", "jobClass": "a.B"}, shardingItemParameters={"1": ""}),
            "shardingContext.shardingItemParameters",
        ),
        (
            task_doc({"jobType": "SIMPLE", "jobClass": "a.B"}, shardingItemParameters={}),
            "shardingContext.shardingItemParameters",
        ),
        (task_doc({"jobType": "JAVA", "jobClass": "a.B"}), "jobConfigContext.jobType"),
        (task_doc({"jobType": "SIMPLE"}), "jobConfigContext.jobClass"),
        (task_doc({"jobType": "SCRIPT", "jobExecutionType": "DAEMON"}), "jobConfigContext.cron"),
        (task_doc({"jobType": "SCRIPT", "misfire": "maybe"}), "jobConfigContext.misfire"),
    ],
)
def test_malformed_task_data_is_rejected_naming_the_field(payload: str, field: str) -> None:
    with pytest.raises(InvalidConfig) as caught:
        decode_task_data(payload)
    assert field in caught.value.errors


def test_malformed_app_data_is_rejected() -> None:
    with pytest.raises(InvalidConfig) as caught:
        decode_app_data(b64({"appName": "a", "appCacheEnable": "yes", "executorIdleTimeoutSeconds": "x"}))
    assert {"appURL", "appCacheEnable", "executorIdleTimeoutSeconds"} <= set(caught.value.errors)
    with pytest.raises(InvalidConfig):
        decode_app_data("")


def test_job_failure_marker() -> None:
    message = job_failure_message("exit code 3:\n  boom " + "x" * 5000)
    assert message.startswith(JOB_FAILURE_PREFIX)
    assert "\n" not in message and len(message) <= len(JOB_FAILURE_PREFIX) + 1000
    assert is_job_failure(message)
    assert not is_job_failure("Executor terminated")
    assert not is_job_failure(None)
