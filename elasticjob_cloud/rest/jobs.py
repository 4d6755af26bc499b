"""``/api/job``: register, update, deregister, list, disable/enable, trigger, queues, statistics."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from ..core.models import TaskId
from ..core.schemas import job_to_wire
from .apps import lifecycle
from .bodies import json_body, json_response, name_body, no_content

blueprint = Blueprint("jobs", __name__, url_prefix="/api/job")


@blueprint.post("/register")
def register() -> Any:
    lifecycle().register_job(json_body())
    return no_content()


@blueprint.put("/update")
def update() -> Any:
    lifecycle().update_job(json_body())
    return no_content()


@blueprint.delete("/deregister")
def deregister_by_body() -> Any:
    lifecycle().deregister_job(name_body())
    return no_content()


@blueprint.delete("/<job_name>/deregister")
def deregister(job_name: str) -> Any:
    lifecycle().deregister_job(job_name)
    return no_content()


@blueprint.get("/jobs")
def list_jobs() -> Any:
    jobs = sorted(lifecycle().list_jobs(), key=lambda job: job.job_name, reverse=True)
    return json_response([job_to_wire(job) for job in jobs])


@blueprint.get("/jobs/<job_name>")
def detail(job_name: str) -> Any:
    return json_response(job_to_wire(lifecycle().get_job(job_name)))


@blueprint.get("/disabled")
def disabled_jobs() -> Any:
    """The jobs disabled by their own mark (not through their app): what a backup restores."""
    return json_response(lifecycle().disabled_job_names())


@blueprint.get("/<job_name>/disable")
def is_disabled(job_name: str) -> Any:
    return json_response(lifecycle().is_job_disabled(job_name))


@blueprint.post("/<job_name>/disable")
def disable(job_name: str) -> Any:
    lifecycle().disable_job(job_name)
    return no_content()


@blueprint.delete("/<job_name>/disable")
@blueprint.post("/<job_name>/enable")
def enable(job_name: str) -> Any:
    lifecycle().enable_job(job_name)
    return no_content()


@blueprint.post("/trigger")
def trigger() -> Any:
    lifecycle().trigger(name_body())
    return no_content()


@blueprint.get("/tasks/ready")
def ready_tasks() -> Any:
    return json_response(lifecycle().ready_tasks())


@blueprint.get("/tasks/failover")
def failover_tasks() -> Any:
    return json_response(
        [
            {
                "taskInfo": {"jobName": entry.job_name, "shardingItems": [entry.sharding_item]},
                "originalTaskId": entry.original_task_id,
            }
            for entry in lifecycle().failover_tasks()
        ]
    )


@blueprint.get("/tasks/running")
def running_tasks() -> Any:
    result = []
    for entry in lifecycle().running_tasks():
        try:
            task = TaskId.parse(entry.task_id)
            task_type, agent_id = task.task_type.value, task.agent_id
        except ValueError:
            task_type, agent_id = "READY", ""
        result.append(
            {
                "id": entry.task_id,
                "metaInfo": {"jobName": entry.job_name, "shardingItems": [entry.sharding_item]},
                "type": task_type,
                "slaveId": agent_id,
                "idle": False,
            }
        )
    return json_response(result)


@blueprint.get("/statistics/jobs/type")
def job_type_statistics() -> Any:
    return json_response(lifecycle().job_type_statistics())


@blueprint.get("/statistics/jobs/executionType")
def execution_type_statistics() -> Any:
    return json_response(lifecycle().execution_type_statistics())
