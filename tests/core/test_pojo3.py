"""The 3.x job body (``CloudJobConfigurationPOJO``) mapped onto the job fields, or refused."""

from __future__ import annotations

import pytest

from elasticjob_cloud.core.pojo3 import from_pojo, is_pojo
from elasticjob_cloud.core.schemas import load_job
from elasticjob_cloud.exceptions import InvalidConfig
from tests.support import POJO3_BODY as POJO


def test_a_script_job_maps_to_script_and_loads():
    mapped = from_pojo({**POJO, "props": {"script.command.line": "echo hi"}})
    job = load_job(mapped.body)
    assert (job.job_type.value, job.script_command_line, job.sharding_total_count) == (
        "SCRIPT",
        "echo hi",
        10,
    )
    assert not mapped.disabled and not mapped.overwrite


def test_a_class_job_needs_its_class_and_dataflow_comes_from_streaming_process():
    with pytest.raises(InvalidConfig) as caught:
        from_pojo(POJO)
    assert "jobClass" in caught.value.errors and "script.command.line" in caught.value.message
    simple = load_job(from_pojo({**POJO, "jobClass": "a.B"}).body)
    assert (simple.job_type.value, simple.job_class) == ("SIMPLE", "a.B")
    dataflow = load_job(from_pojo({**POJO, "jobClass": "a.B", "props": {"streaming.process": "true"}}).body)
    assert (dataflow.job_type.value, dataflow.streaming_process) == ("DATAFLOW", True)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("jobErrorHandlerType", "EMAIL"),
        ("jobExecutorServiceHandlerType", "SINGLE_THREAD"),
        ("jobShardingStrategyType", "ROUND_ROBIN"),
        ("maxTimeDiffSeconds", 60),
        ("reconcileIntervalMinutes", 5),
        ("jobListenerTypes", ["LOG"]),
        ("jobExtraConfigurations", [{"tracing": "RDB"}]),
        ("props", {"dataflow.throughput": "10"}),
        ("disabled", "maybe"),
    ],
)
def test_what_cannot_be_honoured_is_refused_by_name(field, value):
    with pytest.raises(InvalidConfig) as caught:
        from_pojo({**POJO, "jobClass": "a.B", field: value})
    assert list(caught.value.errors) == [field]
    assert field in caught.value.message


def test_defaults_of_3x_are_accepted_and_flags_kept():
    body = {**POJO, "jobClass": "a.B", "jobErrorHandlerType": "LOG", "maxTimeDiffSeconds": -1}
    mapped = from_pojo({**body, "reconcileIntervalMinutes": 10, "disabled": True, "overwrite": True})
    assert mapped.disabled and mapped.overwrite
    assert "disabled" not in mapped.body and "props" not in mapped.body


def test_a_body_is_3x_when_it_has_a_3x_field():
    assert is_pojo(POJO)
    assert is_pojo({"jobType": "SIMPLE", "props": {}})
    assert not is_pojo({"jobName": "x", "jobClass": "a.B"})  # read as 2.x: jobType is then missing
    assert not is_pojo("x")
