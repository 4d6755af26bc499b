"""``/api/job``: register, update, deregister, list, disable/enable, trigger, queues, statistics."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from ..core.models import TaskId
from ..core.schemas import job_to_wire
from .apps import lifecycle, services
from .bodies import json_body, json_response, name_body, no_content
from .contract import (
    ANY_JSON,
    BOOLEAN,
    documented,
    json_content,
    list_of,
    name_request_body,
    ref,
    request_body,
)
from .paging import requested_page

blueprint = Blueprint("jobs", __name__, url_prefix="/api/job")


@blueprint.post("/register")
@documented(
    "Register a job",
    body=request_body("Job"),
    errors=(
        "404",
        "409",
        "413",
    ),
)
def register() -> Any:
    lifecycle().register_job(json_body())
    return no_content()


@blueprint.put("/update")
@documented(
    "Update the given fields of a job",
    body=request_body("JobUpdate"),
    errors=(
        "404",
        "413",
    ),
)
def update() -> Any:
    lifecycle().update_job(json_body())
    return no_content()


@blueprint.delete("/deregister")
@documented("Deregister a job (body = its name; idempotent)", body=name_request_body(), errors=("413",))
def deregister_by_body() -> Any:
    lifecycle().deregister_job(name_body())
    return no_content()


@blueprint.delete("/<job:job_name>/deregister")
@documented("Deregister a job (idempotent)")
def deregister(job_name: str) -> Any:
    lifecycle().deregister_job(job_name)
    return no_content()


@blueprint.get("/jobs")
@documented(
    "List jobs (name descending); with ?page=&per_page=&search=&order= one page: {total, rows}, by name",
    ok=list_of("Job"),
    status="200",
)
def list_jobs() -> Any:
    paging = requested_page()
    if paging is not None:
        total, page = lifecycle().find_jobs(paging.search, paging.offset, paging.per_page, paging.descending)
        return json_response({"total": total, "rows": [job_to_wire(job) for job in page]})
    jobs = sorted(lifecycle().list_jobs(), key=lambda job: job.job_name, reverse=True)
    return json_response([job_to_wire(job) for job in jobs])


@blueprint.get("/jobs/<job:job_name>")
@documented("A job", ok=ref("Job"), status="200", errors=("404",))
def detail(job_name: str) -> Any:
    return json_response(job_to_wire(lifecycle().get_job(job_name)))


@blueprint.get("/disabled")
@documented(
    "Jobs disabled by their own mark",
    ok=json_content({"type": "array", "items": {"type": "string"}}),
    status="200",
)
def disabled_jobs() -> Any:
    """The jobs disabled by their own mark (not through their app): what a backup restores."""
    return json_response(lifecycle().disabled_job_names())


@blueprint.get("/<job:job_name>/disable")
@documented("Is the job (or its app) disabled", ok=BOOLEAN, status="200", errors=("404",))
def is_disabled(job_name: str) -> Any:
    return json_response(lifecycle().is_job_disabled(job_name))


@blueprint.post("/<job:job_name>/disable")
@documented("Disable the job", errors=("404",))
def disable(job_name: str) -> Any:
    lifecycle().disable_job(job_name)
    return no_content()


@blueprint.delete("/<job:job_name>/disable")
@blueprint.post("/<job:job_name>/enable")
@documented("Enable the job (DELETE …/disable is the 2.x form)", errors=("404",))
def enable(job_name: str) -> Any:
    lifecycle().enable_job(job_name)
    return no_content()


@blueprint.post("/trigger")
@documented(
    "Queue one run of a TRANSIENT job (body = its name)",
    body=name_request_body(),
    errors=(
        "404",
        "409",
        "413",
    ),
)
def trigger() -> Any:
    lifecycle().trigger(name_body())
    return no_content()


@blueprint.get("/tasks/ready")
@documented("Queued runs", ok=ANY_JSON, status="200")
def ready_tasks() -> Any:
    return json_response(lifecycle().ready_tasks())


@blueprint.get("/tasks/failover")
@documented("Shards waiting to fail over", ok=ANY_JSON, status="200")
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
@documented("Running tasks", ok=ANY_JSON, status="200")
def running_tasks() -> Any:
    """``idle`` is true for a DAEMON task between two runs (the leader's engine knows; a standby,
    which has none, reports false)."""
    control = services().control
    idle = control.idle_task_ids() if control is not None else set()
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
                "idle": entry.task_id in idle,
            }
        )
    return json_response(result)


@blueprint.get("/statistics/jobs/type")
@documented("Jobs per type", ok=ANY_JSON, status="200")
def job_type_statistics() -> Any:
    return json_response(lifecycle().job_type_statistics())


@blueprint.get("/statistics/jobs/executionType")
@documented("Jobs per execution type", ok=ANY_JSON, status="200")
def execution_type_statistics() -> Any:
    return json_response(lifecycle().execution_type_statistics())
