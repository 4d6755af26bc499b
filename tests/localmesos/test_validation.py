"""ACCEPT validation: well-formed tasks pass the quick check, malformed ones get the full message."""

from __future__ import annotations

from typing import Any

import pytest

from elasticjob_cloud.localmesos.httpbase import BadRequest
from elasticjob_cloud.localmesos.scheduler_api import validate

PREFIX = "Failed to validate scheduler::Call: "


def _task(**changes: Any) -> dict[str, Any]:
    task: dict[str, Any] = {
        "name": "t1",
        "task_id": {"value": "t1"},
        "agent_id": {"value": "a1"},
        "resources": [{"name": "cpus", "type": "SCALAR", "scalar": {"value": 0.1}}],
        "executor": {"executor_id": {"value": "e1"}},
    }
    for key, value in changes.items():
        if value is None:
            task.pop(key)
        else:
            task[key] = value
    return task


def _accept(*tasks: Any) -> dict[str, Any]:
    return {
        "type": "ACCEPT",
        "framework_id": {"value": "f1"},
        "accept": {
            "offer_ids": [{"value": "o1"}],
            "operations": [{"type": "LAUNCH", "launch": {"task_infos": list(tasks)}}],
        },
    }


def test_well_formed_tasks_pass() -> None:
    assert (
        validate(_accept(_task(), _task(resources=None, executor=None, command={"value": "true"})))
        == "ACCEPT"
    )


@pytest.mark.parametrize(
    ("task", "message"),
    [
        ("t1", "'accept.operations[0].launch.task_infos[1]' must be an object"),
        (_task(name=None), "Expecting 'name' to be present"),
        (_task(name=5), "'name' has the wrong type"),
        (_task(task_id={"value": ""}), "'task_id' is empty"),
        (_task(task_id={}), "Expecting 'task_id.value' to be present"),
        (_task(agent_id={"value": True}), "'agent_id.value' has the wrong type"),
        (_task(agent_id=None), "Expecting 'agent_id.value' to be present"),
        (_task(resources={}), "'resources' has the wrong type"),
        (_task(executor={}), "Expecting 'executor.executor_id.value' to be present"),
        (_task(executor={"executor_id": {"value": ""}}), "'executor.executor_id' is empty"),
        (_task(executor="e1"), "Expecting 'executor.executor_id.value' to be present"),
    ],
)
def test_malformed_tasks_keep_their_messages(task: Any, message: str) -> None:
    with pytest.raises(BadRequest) as caught:
        validate(_accept(_task(), task))
    assert str(caught.value) == PREFIX + message
