"""``GET /api/openapi.json``: an OpenAPI 3 document generated from the marshmallow schemas."""

from __future__ import annotations

from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Blueprint

from ..core.schemas import AppSchema, JobSchema
from .bodies import json_response

blueprint = Blueprint("openapi", __name__)

_ERROR = {
    "description": "error",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
}
_NAME_BODY = {"required": True, "content": {"text/plain": {"schema": {"type": "string"}}}}


def _ref(name: str) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}}}


def _op(
    summary: str, body: Any = None, ok: Any = None, status: str = "204", errors: tuple[str, ...] = ()
) -> dict:
    responses: dict[str, Any] = {status: {"description": "ok", **(ok or {})}}
    responses.update({code: _ERROR for code in ("400", *errors, "503")})
    operation: dict[str, Any] = {"summary": summary, "responses": responses}
    if body is not None:
        operation["requestBody"] = body
    return operation


def _list(name: str) -> dict[str, Any]:
    return {
        "content": {
            "application/json": {
                "schema": {"type": "array", "items": {"$ref": f"#/components/schemas/{name}"}}
            }
        }
    }


_BOOL: dict[str, Any] = {"content": {"application/json": {"schema": {"type": "boolean"}}}}
_ANY: dict[str, Any] = {"content": {"application/json": {"schema": {}}}}
_SANDBOX: dict[str, Any] = {
    "content": {
        "application/json": {
            "schema": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"hostname": {"type": "string"}, "path": {"type": "string"}},
                },
            }
        }
    }
}

PATHS: dict[str, dict[str, dict[str, Any]]] = {
    "/api/app": {
        "post": _op("Publish an app", _ref("App"), errors=("409",)),
        "put": _op("Update the given fields of an app", _ref("App"), errors=("404",)),
    },
    "/api/app/list": {"get": _op("List apps", ok=_list("App"), status="200")},
    "/api/app/{appName}": {
        "get": _op("App detail", ok=_ref("App"), status="200", errors=("404",)),
        "delete": _op("Delete an app and deregister its jobs"),
    },
    "/api/app/{appName}/disable": {
        "get": _op("Is the app disabled", ok=_BOOL, status="200", errors=("404",)),
        "post": _op("Disable the app", errors=("404",)),
        "delete": _op("Enable the app (2.x form)", errors=("404",)),
    },
    "/api/app/{appName}/enable": {"post": _op("Enable the app", errors=("404",))},
    "/api/job/register": {"post": _op("Register a job", _ref("Job"), errors=("404", "409"))},
    "/api/job/update": {"put": _op("Update the given fields of a job", _ref("Job"), errors=("404",))},
    "/api/job/deregister": {"delete": _op("Deregister a job (body = its name)", _NAME_BODY)},
    "/api/job/{jobName}/deregister": {"delete": _op("Deregister a job")},
    "/api/job/jobs": {"get": _op("List jobs", ok=_list("Job"), status="200")},
    "/api/job/jobs/{jobName}": {"get": _op("Job detail", ok=_ref("Job"), status="200", errors=("404",))},
    "/api/job/{jobName}/disable": {
        "get": _op("Is the job (or its app) disabled", ok=_BOOL, status="200", errors=("404",)),
        "post": _op("Disable the job", errors=("404",)),
        "delete": _op("Enable the job (2.x form)", errors=("404",)),
    },
    "/api/job/{jobName}/enable": {"post": _op("Enable the job", errors=("404",))},
    "/api/job/trigger": {
        "post": _op("Queue one run of a TRANSIENT job (body = its name)", _NAME_BODY, errors=("404", "409"))
    },
    "/api/job/tasks/ready": {"get": _op("Queued runs", ok=_ANY, status="200")},
    "/api/job/tasks/failover": {"get": _op("Shards waiting to fail over", ok=_ANY, status="200")},
    "/api/job/tasks/running": {"get": _op("Running tasks", ok=_ANY, status="200")},
    "/api/job/statistics/jobs/type": {"get": _op("Jobs per type", ok=_ANY, status="200")},
    "/api/job/statistics/jobs/executionType": {"get": _op("Jobs per execution type", ok=_ANY, status="200")},
    "/api/job/events/executions": {
        "get": _op(
            "Execution history (?per_page=&page=&sort=&order=&startTime=&endTime=&jobName=&taskId="
            "&hostname=&ip=&isSuccess=&executionSource=&shardingItem=): {total, rows}",
            ok=_ANY,
            status="200",
        )
    },
    "/api/job/events/statusTraces": {
        "get": _op(
            "Task status history (?per_page=&page=&sort=&order=&startTime=&endTime=&jobName=&taskId="
            "&originalTaskId=&slaveId=&source=&executionType=&state=): {total, rows}",
            ok=_ANY,
            status="200",
        )
    },
    "/api/job/jobs/{jobName}/executions": {
        "get": _op(
            "A job's last runs (?limit=) with duration and result, and duration p50/p95",
            ok=_ANY,
            status="200",
        )
    },
    "/api/job/statistics/tasks/results": {
        "get": _op("Task results per minute (?since=last24hours)", ok=_ANY, status="200")
    },
    "/api/job/statistics/tasks/results/{period}": {
        "get": _op("Task results: online | lastWeek | lastHour | lastMinute", ok=_ANY, status="200")
    },
    "/api/job/statistics/tasks/running": {
        "get": _op("Running tasks per minute (?since=lastWeek)", ok=_ANY, status="200")
    },
    "/api/job/statistics/jobs/running": {
        "get": _op("Running jobs per minute (?since=lastWeek)", ok=_ANY, status="200")
    },
    "/api/job/statistics/jobs/register": {"get": _op("Registered jobs per day", ok=_ANY, status="200")},
    "/api/cron/preview": {
        "get": _op("Next fire times of ?cron=&count=&after=&timeZone=", ok=_ANY, status="200")
    },
    "/api/job/jobs/{jobName}/next-fire-times": {
        "get": _op("Next fire times of a job (?count=&after=)", ok=_ANY, status="200", errors=("404",))
    },
    "/api/operate/reconcile/explicit": {
        "post": _op(
            "Reconcile the running tasks with Mesos (leader only; a standby answers 307 to the leader)",
            errors=("307", "429"),
        )
    },
    "/api/operate/reconcile/implicit": {
        "post": _op("Ask Mesos for every task's state (leader only)", errors=("307", "429"))
    },
    "/api/operate/sandbox": {
        "get": {
            **_op(
                "Sandboxes of an app's executors (leader only)", ok=_SANDBOX, status="200", errors=("307",)
            ),
            "parameters": [
                {"name": "appName", "in": "query", "required": True, "schema": {"type": "string"}}
            ],
        }
    },
    "/health": {
        "get": _op("Role of this instance, the leader, ZooKeeper and Mesos state", ok=_ANY, status="200")
    },
    "/job/register": {
        "post": _op("Prototype API: register a script job with its own app", _ANY, errors=("409",))
    },
    "/job/unregister": {"delete": _op("Prototype API: remove the job and its app", _NAME_BODY)},
}


def build_spec() -> dict[str, Any]:
    spec = APISpec(
        title="elasticjob-cloud", version="1", openapi_version="3.0.3", plugins=[MarshmallowPlugin()]
    )
    spec.components.schema("App", schema=AppSchema)
    spec.components.schema("Job", schema=JobSchema)
    spec.components.schema(
        "Error",
        {
            "type": "object",
            "properties": {
                "message": {"type": "string"},
                "errors": {
                    "type": "object",
                    "additionalProperties": {"type": "array", "items": {"type": "string"}},
                },
            },
        },
    )
    for path, operations in PATHS.items():
        spec.path(path=path, operations=operations)
    return spec.to_dict()


@blueprint.get("/api/openapi.json")
def openapi() -> Any:
    return json_response(build_spec())
