"""``/api/job``: register, update, deregister, list, disable/enable, trigger, queues, statistics."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, request

from ..core import limits
from ..core.fields import NO_NUL
from ..core.models import TaskId
from ..core.schemas import job_to_wire
from ..core.triggers import IDEMPOTENCY_KEY_MAX, PARAMETER_KEYS, is_parameterised
from .apps import lifecycle, services
from .bodies import json_body, json_response, name_body, no_content, parse_json
from .contract import (
    ANY_JSON,
    BOOLEAN,
    documented,
    json_content,
    list_of,
    name_request_body,
    name_schema,
    ref,
    request_body,
)
from .dependencies import CASCADE, cascade_requested
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
    errors=("404", "409", "413"),
)
def update() -> Any:
    lifecycle().update_job(json_body())
    return no_content()


@blueprint.delete("/deregister")
@documented(
    "Deregister a job (body = its name; idempotent); 409 when other jobs depend on it, unless ?cascade=true",
    body=name_request_body(),
    errors=("409", "413"),
    query=(CASCADE,),
)
def deregister_by_body() -> Any:
    cascade = cascade_requested()
    lifecycle().deregister_job(name_body(), cascade)
    return no_content()


@blueprint.delete("/<job:job_name>/deregister")
@documented(
    "Deregister a job (idempotent); 409 when other jobs depend on it, unless ?cascade=true",
    errors=("409",),
    query=(CASCADE,),
)
def deregister(job_name: str) -> Any:
    lifecycle().deregister_job(job_name, cascade_requested())
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


def trigger_request_body() -> dict[str, Any]:
    """The original's name forms, or ``{"jobName", "jobParameter", "shardingItemParameters",
    "idempotencyKey"}`` (issue #17, ``core.triggers``)."""
    body = name_request_body()
    keys = [{"required": [key]} for key in PARAMETER_KEYS]
    text = {"type": "string", "nullable": True, "pattern": NO_NUL}
    parameterised = {
        "type": "object",
        "properties": {
            "jobName": name_schema("jobName"),
            "jobParameter": {**text, "maxLength": limits.TEXT_LIMITS["jobParameter"]},
            "shardingItemParameters": {
                **text,
                "maxLength": limits.TEXT_LIMITS["shardingItemParameters"],
                "format": "sharding-item-parameters",  # item=value,… with items below shardingTotalCount
            },
            "idempotencyKey": {**text, "minLength": 1, "maxLength": IDEMPOTENCY_KEY_MAX},
        },
        "required": ["jobName"],
        "anyOf": keys,  # any of them makes it this form
    }
    alternatives = body["content"]["application/json"]["schema"]["oneOf"]
    alternatives[1]["not"] = {"anyOf": keys}  # the plain {"jobName"} form has none of them
    alternatives.append(parameterised)
    return body


TRIGGER_ANSWER_SCHEMA = {
    "type": "object",
    "properties": {
        "jobName": {"type": "string"},
        "runId": {"type": "string", "description": "the last part of each of the run's task IDs"},
        "queued": {"type": "boolean", "description": "false: the idempotencyKey named this run before"},
    },
}


@blueprint.post("/trigger")
@documented(
    "Queue one run of a TRANSIENT job (body = its name); with parameters or an idempotencyKey, a run "
    "with its own parameters, answered with its run ID",
    body=trigger_request_body(),
    more={"200": json_content(TRIGGER_ANSWER_SCHEMA)},
    errors=(
        "404",
        "409",
        "413",
    ),
)
def trigger() -> Any:
    """The original's forms (the name as the body, or ``{"jobName"}``): 204. With parameters or an
    ``idempotencyKey`` (issue #17): 200 naming the run, ``queued`` false when the key named it before."""
    raw = request.get_data(cache=True, as_text=True).strip()
    body = parse_json(raw) if raw.startswith("{") else None
    if is_parameterised(body):
        return json_response(lifecycle().trigger_run(body))
    lifecycle().trigger(name_body())
    return no_content()


@blueprint.get("/tasks/ready")
@documented("Queued runs; a run no agent can hold says why in unschedulable", ok=ANY_JSON, status="200")
def ready_tasks() -> Any:
    """The original's ``{jobName, times}``; ``unschedulable`` (issue #12) when the leader found that
    no agent the master knows can hold the job's run (a standby knows nothing of it)."""
    marks = _unschedulable()
    entries = lifecycle().ready_tasks()
    for entry in entries:
        if (mark := marks.get(entry["jobName"])) is not None:
            entry["unschedulable"] = str(mark["reason"])
    return json_response(entries)


@blueprint.get("/tasks/unschedulable")
@documented("Jobs whose pending runs no agent can hold (leader only; else empty)", ok=ANY_JSON, status="200")
def unschedulable_tasks() -> Any:
    """Every job with a pending run (ready, failover or daemon) that no agent of the cluster can
    hold even idle: what it needs and the largest agent's totals (issue #12)."""
    return json_response([mark for _, mark in sorted(_unschedulable().items())])


def _unschedulable() -> dict[str, dict[str, object]]:
    control = services().control
    return control.unschedulable() if control is not None else {}


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
