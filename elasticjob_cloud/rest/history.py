"""``/api/job/events/*`` (the original's history search) and a job's recent executions.

Without an event trace database the original's two search endpoints answer its empty result
``{"total": 0, "rows": []}`` (the console shows an empty table); the job executions endpoint, which
the original did not have, answers 503 saying the trace is not configured.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, request

from ..core.fields import whole_number
from ..core.names import require_name
from ..exceptions import InvalidConfig, TraceUnavailable
from ..trace.service import TraceService
from .apps import services
from .bodies import json_response
from .contract import ANY_JSON, documented, may_be_empty, query

blueprint = Blueprint("history", __name__, url_prefix="/api/job")

MAX_RUNS = 1000


def trace() -> TraceService | None:
    return services().trace


def _params() -> dict[str, str]:
    return {key: request.args.get(key, "") for key in request.args}


@blueprint.get("/events/executions")
@documented(
    "Execution history (?per_page=&page=&sort=&order=&startTime=&endTime=&jobName=&taskId=&hostname=&ip=&isSuccess=&executionSource=&shardingItem=): {total, rows}",
    ok=ANY_JSON,
    status="200",
)
def executions() -> Any:
    service = trace()
    if service is None:
        return json_response({"total": 0, "rows": []})
    with service.reading():
        return json_response(service.search.executions(_params()))


@blueprint.get("/events/statusTraces")
@documented(
    "Task status history (?per_page=&page=&sort=&order=&startTime=&endTime=&jobName=&taskId=&originalTaskId=&slaveId=&source=&executionType=&state=): {total, rows}",
    ok=ANY_JSON,
    status="200",
)
def status_traces() -> Any:
    service = trace()
    if service is None:
        return json_response({"total": 0, "rows": []})
    with service.reading():
        return json_response(service.search.status_traces(_params()))


@blueprint.get("/jobs/<job:job_name>/executions")
@documented(
    "A job's last runs with duration and result, and duration p50/p95",
    ok=ANY_JSON,
    status="200",
    query=(may_be_empty(query("limit", {"type": "integer", "minimum": 1, "maximum": MAX_RUNS})),),
)
def job_executions(job_name: str) -> Any:
    """The job's last runs (``?limit=``, default 20, at most 1000), newest first, with duration and
    result, and the p50/p95 duration of the completed ones."""
    job_name = require_name(job_name, "jobName")
    text = request.args.get("limit", "20").strip() or "20"
    limit = whole_number(text)
    if limit is None:
        raise InvalidConfig.field("limit", f"{text[:40]!r} is not an integer")
    if not 1 <= limit <= MAX_RUNS:
        raise InvalidConfig.field("limit", f"must be between 1 and {MAX_RUNS}")
    service = trace()
    if service is None:
        raise TraceUnavailable("no event trace database is configured (event_trace_rdb_url)")
    with service.reading():
        return json_response(service.search.job_executions(job_name, limit))
