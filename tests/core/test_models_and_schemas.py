import pytest

from elasticjob_cloud.core.models import TaskId, TaskType, executor_id, parse_sharding_item_parameters
from elasticjob_cloud.core.schemas import (
    job_to_wire,
    load_app,
    load_job,
    load_stored_job,
    sharding_item_parameter_errors,
)
from elasticjob_cloud.exceptions import InvalidConfig
from tests.support import FOO_JOB


def test_task_id_round_trip_in_the_original_format():
    text = "cpu_job_1@-@2@-@READY@-@d8701508-S0@-@a03017a7"
    task = TaskId.parse(text)
    assert (task.job_name, task.sharding_item, task.task_type, task.agent_id) == (
        "cpu_job_1",
        2,
        TaskType.READY,
        "d8701508-S0",
    )
    assert str(task) == text and task.meta_info == "cpu_job_1@-@2"
    assert executor_id("foo_app", "S0") == "foo_app@-@S0"
    with pytest.raises(ValueError, match="5"):
        TaskId.parse("job@-@1@-@READY")


def test_sharding_item_parameters():
    assert parse_sharding_item_parameters(" 0=a, 1 = b ,2=c") == {0: "a", 1: "b", 2: "c"}
    assert sharding_item_parameter_errors("0=a,1=b", 2) == []
    assert sharding_item_parameter_errors("0=a,2=b", 2) == [
        "item 2 must be >= 0 and < shardingTotalCount (2)"
    ]
    assert sharding_item_parameter_errors("0=a=b", 2) == ["entry '0=a=b' must look like item=value"]
    assert sharding_item_parameter_errors("0=", 2) == ["entry '0=' must look like item=value"]


@pytest.mark.parametrize(
    ("changes", "present", "absent"),
    [
        ({}, [], ["streamingProcess", "scriptCommandLine", "beanName", "timeZone", "dockerImageName"]),
        ({"jobType": "DATAFLOW", "streamingProcess": True}, ["streamingProcess"], ["scriptCommandLine"]),
        ({"jobType": "SCRIPT", "scriptCommandLine": "run.sh"}, ["scriptCommandLine"], ["streamingProcess"]),
        ({"beanName": "b", "applicationContext": "c"}, ["beanName", "applicationContext"], []),
        ({"timeZone": "Europe/Berlin"}, ["timeZone"], []),
    ],
)
def test_wire_form_writes_type_specific_keys_only_where_the_original_does(changes, present, absent):
    wire = job_to_wire(load_job({**FOO_JOB, **changes}))
    assert all(key in wire for key in present)
    assert not any(key in wire for key in absent)
    assert list(wire)[:3] == ["jobName", "jobClass", "jobType"]
    assert load_job(wire) == load_job({**FOO_JOB, **changes})


def test_errors_are_collected_for_every_field_at_once():
    with pytest.raises(InvalidConfig) as caught:
        load_job({"jobName": "", "appName": "a", "jobType": "SIMPLE"})
    assert {"jobName", "cron", "shardingTotalCount", "cpuCount", "memoryMB", "jobExecutionType"} <= set(
        caught.value.errors
    )


# ----- strict values and input bounds (issue #12)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("shardingTotalCount", 3.5),
        ("shardingTotalCount", True),
        ("shardingTotalCount", "\uff13"),
        ("shardingTotalCount", 10_001),
        ("cpuCount", float("nan")),
        ("cpuCount", 1e308),
        ("failover", 1),
        ("failover", "yes"),
        ("description", "d" * 8193),
        ("jobParameter", "a\x00"),
    ],
)
def test_a_value_that_would_change_meaning_is_refused(field, value):
    with pytest.raises(InvalidConfig) as refused:
        load_job({**FOO_JOB, field: value})
    assert list(refused.value.errors) == [field]


@pytest.mark.parametrize(
    ("field", "value", "stored"),
    [
        ("shardingTotalCount", "3", 3),
        ("shardingTotalCount", 4.0, 4),
        ("cpuCount", "0.5", 0.5),
        ("failover", "TRUE", True),
        ("misfire", "false", False),
    ],
)
def test_numeric_and_boolean_strings_keep_their_meaning(field, value, stored):
    wire = job_to_wire(load_job({**FOO_JOB, field: value}))
    assert wire[field] == stored


def test_a_stored_record_over_the_input_bounds_is_still_read():
    """Limits guard input; a job stored by an older version is scheduled, not silently dropped."""
    stored = {**FOO_JOB, "shardingTotalCount": 20_000, "description": "d" * 20_000, "cpuCount": 2048}
    job = load_stored_job(stored)
    assert job.sharding_total_count == 20_000 and job.cpu_count == 2048
    with pytest.raises(InvalidConfig):
        load_job(stored)


def test_nested_errors_are_keyed_by_the_property():
    with pytest.raises(InvalidConfig) as refused:
        load_job({**FOO_JOB, "jobProperties": {"executor_service_handler": ["x"]}})
    assert list(refused.value.errors) == ["jobProperties.executor_service_handler"]


def test_app_url_that_urllib_cannot_parse_is_a_field_error():
    with pytest.raises(InvalidConfig) as refused:
        load_app({"appName": "a", "appURL": "http://[::1", "bootstrapScript": "b"})
    assert list(refused.value.errors) == ["appURL"]
