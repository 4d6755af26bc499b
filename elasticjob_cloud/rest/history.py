"""``/api/job/events/*`` (the original's history search) and a job's recent executions.

Without an event trace database the original's two search endpoints answer its empty result
``{"total": 0, "rows": []}`` (the console shows an empty table); the job executions endpoint, which
the original did not have, answers 503 saying the trace is not configured.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, request

from ..core.fields import NO_NUL, whole_number
from ..core.limits import MAX_SHARDING_TOTAL_COUNT
from ..core.names import require_name
from ..exceptions import InvalidConfig, TraceUnavailable
from ..trace.search import EXECUTIONS, MAX_PAGE, STATUS_TRACES, Searchable
from ..trace.service import TraceService
from .apps import services
from .bodies import json_response
from .contract import ANY_JSON, TIME_QUERY, documented, may_be_empty, query

blueprint = Blueprint("history", __name__, url_prefix="/api/job")

MAX_RUNS = 1000


def trace() -> TraceService | None:
    return services().trace


def _params() -> dict[str, str]:
    return {key: request.args.get(key, "") for key in request.args}


def _search_query(what: Searchable) -> tuple[dict[str, Any], ...]:
    """The query parameters ``trace.search`` reads, as it reads them: an empty value is "not given";
    a page or per_page of 0 or less is the first page of 10 rows; per_page is capped."""
    text = {"type": "string", "pattern": NO_NUL}
    filters = []
    for name, column in what.filters.items():
        if column == "is_success":
            filters.append(query(name, {"type": "string", "enum": ["", "0", "1", "true", "false"]}))
        elif column == "sharding_item" and what is EXECUTIONS:
            item = {"type": "integer", "minimum": 0, "maximum": MAX_SHARDING_TOTAL_COUNT - 1}
            filters.append(may_be_empty(query(name, item)))
        else:
            filters.append(query(name, text))
    return (
        may_be_empty(query("per_page", {"type": "integer"})),
        may_be_empty(query("page", {"type": "integer", "maximum": MAX_PAGE})),
        query("sort", {"type": "string", "enum": ["", *sorted(what.sorts)]}),
        query("order", {"type": "string", "enum": ["", "asc", "desc"]}),
        query("startTime", TIME_QUERY, description="yyyy-MM-dd HH:mm:ss or ISO 8601; empty: none"),
        query("endTime", TIME_QUERY, description="yyyy-MM-dd HH:mm:ss or ISO 8601; empty: none"),
        *filters,
    )


@blueprint.get("/events/executions")
@documented(
    "Execution history (?per_page=&page=&sort=&order=&startTime=&endTime=&jobName=&taskId=&hostname=&ip=&isSuccess=&executionSource=&shardingItem=): {total, rows}",
    ok=ANY_JSON,
    status="200",
    query=_search_query(EXECUTIONS),
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
    query=_search_query(STATUS_TRACES),
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
