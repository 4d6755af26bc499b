"""History search behind ``/api/job/events/*`` and a job's recent executions.

Every parameter is checked against a whitelist and bound; nothing a client sends is pasted into SQL.
An unknown ``sort`` column, a bad time or number is ``InvalidConfig`` naming the parameter (400).
Filters are equalities on the original's camelCase names; ``startTime``/``endTime`` bound
``start_time`` (executions) or ``creation_time`` (status traces). Without ``sort`` the newest rows
come first. ``per_page`` is capped at ``MAX_PER_PAGE``; a page or per_page ≤ 0 means the original's
default (10 rows from the first).

``isSuccess=0`` finds failed executions only: a running one (no complete time) is neither.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from sqlalchemy import Column, Engine, Table, and_, func, select

from ..core.fields import text_problem, whole_number
from ..core.limits import MAX_SHARDING_TOTAL_COUNT
from ..exceptions import InvalidConfig
from . import schema
from .timeparse import format_time, parse_time

MAX_PER_PAGE = 1000
DEFAULT_PER_PAGE = 10
MAX_PAGE = 10_000_000  # beyond it, (page - 1) * per_page overflows the databases' 64-bit OFFSET


@dataclass(frozen=True)
class Searchable:
    table: Table
    filters: Mapping[str, str]  # parameter → column
    sorts: Mapping[str, str]
    time_column: str


# Every filter is a sort column too; the sorts add the columns that are not filtered on (and the
# original's alternative names).
_EXECUTION_FILTERS = {
    "id": "id",
    "jobName": "job_name",
    "taskId": "task_id",
    "hostname": "hostname",
    "ip": "ip",
    "shardingItem": "sharding_item",
    "executionSource": "execution_source",
    "isSuccess": "is_success",
}
EXECUTIONS = Searchable(
    schema.execution_log,
    _EXECUTION_FILTERS,
    {
        **_EXECUTION_FILTERS,
        "source": "execution_source",
        "success": "is_success",
        "startTime": "start_time",
        "completeTime": "complete_time",
        "failureCause": "failure_cause",
    },
    "start_time",
)
_STATUS_FILTERS = {
    "id": "id",
    "jobName": "job_name",
    "originalTaskId": "original_task_id",
    "taskId": "task_id",
    "slaveId": "slave_id",
    "source": "source",
    "executionType": "execution_type",
    "shardingItems": "sharding_item",
    "state": "state",
}
STATUS_TRACES = Searchable(
    schema.status_trace_log,
    _STATUS_FILTERS,
    {**_STATUS_FILTERS, "message": "message", "creationTime": "creation_time"},
    "creation_time",
)


def _integer(name: str, text: str) -> int:
    value = whole_number(text)
    if value is None:
        raise InvalidConfig.field(name, f"{text[:40]!r} is not an integer")
    return value


def _success(text: str) -> int:
    value = text.strip().lower()
    if value in ("1", "true"):
        return 1
    if value in ("0", "false"):
        return 0
    raise InvalidConfig.field("isSuccess", f"{text!r}: use 1/0 or true/false")


class TraceSearch:
    def __init__(self, engine: Engine, zone: tzinfo):
        self.engine = engine
        self.zone = zone

    def executions(self, params: Mapping[str, str]) -> dict[str, Any]:
        return self._search(EXECUTIONS, params, execution_json)

    def status_traces(self, params: Mapping[str, str]) -> dict[str, Any]:
        return self._search(STATUS_TRACES, params, status_json)

    def _search(self, what: Searchable, params: Mapping[str, str], to_json: Any) -> dict[str, Any]:
        table = what.table
        conditions = []
        for name, column in what.filters.items():
            text = params.get(name, "")
            if text == "":
                continue  # the console sends empty filters: no filter
            problem = text_problem(text)  # PostgreSQL refuses a NUL even in a comparison
            if problem is not None:
                raise InvalidConfig.field(name, problem)
            if column == "is_success":
                success = _success(text)
                conditions.append(table.c.is_success == success)
                if not success:
                    conditions.append(table.c.complete_time.is_not(None))
            elif column == "sharding_item" and what is EXECUTIONS:
                item = _integer(name, text)
                if not 0 <= item < MAX_SHARDING_TOTAL_COUNT:  # nor would it fit the column's integer
                    raise InvalidConfig.field(
                        name, f"must be from 0 to {MAX_SHARDING_TOTAL_COUNT - 1}, got {item}"
                    )
                conditions.append(table.c[column] == item)
            else:
                conditions.append(table.c[column] == text)
        time_column = table.c[what.time_column]
        for name, operator in (("startTime", time_column.__ge__), ("endTime", time_column.__le__)):
            if params.get(name, "").strip():
                conditions.append(operator(parse_time(name, params[name], self.zone)))
        where = and_(True, *conditions)
        per_page = _integer("per_page", params["per_page"]) if params.get("per_page", "") != "" else 10
        page = _integer("page", params["page"]) if params.get("page", "") != "" else 1
        if page > MAX_PAGE:
            raise InvalidConfig.field("page", f"must be at most {MAX_PAGE}, got {str(page)[:40]}")
        if per_page <= 0 or page <= 0:
            per_page, page = DEFAULT_PER_PAGE, 1
        per_page = min(per_page, MAX_PER_PAGE)
        order = self._order(what, params, time_column)
        # the page's keys first (from the index alone when it covers the sort), then only its rows
        keys = select(table.c.id).where(where).order_by(*order).limit(per_page).offset((page - 1) * per_page)
        page_keys = keys.subquery()
        query = select(table).join(page_keys, table.c.id == page_keys.c.id).order_by(*order)
        with self.engine.connect() as connection:
            total = connection.execute(select(func.count()).select_from(table).where(where)).scalar_one()
            rows = connection.execute(query).mappings().all()
        return {"total": int(total), "rows": [to_json(row) for row in rows]}

    @staticmethod
    def _order(what: Searchable, params: Mapping[str, str], time_column: Column[Any]) -> list[Any]:
        direction = params.get("order", "").strip().lower()
        if direction not in ("", "asc", "desc"):
            raise InvalidConfig.field("order", f"{params['order']!r}: use asc or desc")
        sort = params.get("sort", "").strip()
        if not sort:
            return [time_column.desc(), what.table.c.id.desc()]
        column = what.sorts.get(sort)
        if column is None:
            raise InvalidConfig.field(
                "sort", f"unknown column {sort!r}; one of {', '.join(sorted(what.sorts))}"
            )
        key = what.table.c[column]
        if direction == "desc":
            return [key.desc(), what.table.c.id.desc()]
        return [key.asc(), what.table.c.id.asc()]

    def job_executions(self, job_name: str, limit: int) -> dict[str, Any]:
        """The job's last ``limit`` executions (newest first) with duration and result, and the
        p50/p95 duration of the completed ones among them."""
        table = schema.execution_log
        query = (
            select(table)
            .where(table.c.job_name == job_name)
            .order_by(table.c.start_time.desc(), table.c.id.desc())
            .limit(limit)
        )
        with self.engine.connect() as connection:
            rows = connection.execute(query).mappings().all()
        executions = []
        durations = []
        for row in rows:
            item = execution_json(row)
            duration = _duration_ms(row["start_time"], row["complete_time"])
            item["durationMs"] = duration
            if duration is not None:
                durations.append(duration)
            executions.append(item)
        return {
            "jobName": job_name,
            "executions": executions,
            "duration": {
                "count": len(durations),
                "p50Ms": percentile(durations, 50),
                "p95Ms": percentile(durations, 95),
            },
        }


def _duration_ms(start: datetime | None, end: datetime | None) -> int | None:
    if start is None or end is None:
        return None
    return max(0, round((end - start).total_seconds() * 1000))


def percentile(values: list[int], p: float) -> int | None:
    """Nearest-rank percentile (None for no values)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * p // 100))
    return ordered[int(rank) - 1]


def result_of(row: Any) -> str:
    if row["complete_time"] is None:
        return "RUNNING"
    return "SUCCESS" if row["is_success"] else "FAILED"


def execution_json(row: Any) -> dict[str, Any]:
    """The original's row JSON (nulls left out, as Gson did); ``success`` is null while running,
    and ``result`` says RUNNING / SUCCESS / FAILED."""
    result = result_of(row)
    item: dict[str, Any] = {
        "id": row["id"],
        "hostname": row["hostname"],
        "ip": row["ip"],
        "taskId": row["task_id"],
        "jobName": row["job_name"],
        "source": row["execution_source"],
        "shardingItem": row["sharding_item"],
        "startTime": format_time(row["start_time"]),
        "completeTime": format_time(row["complete_time"]),
        "success": None if result == "RUNNING" else bool(row["is_success"]),
        "result": result,
    }
    if row["failure_cause"] is not None:
        item["failureCause"] = {"plainText": row["failure_cause"]}
    return {k: v for k, v in item.items() if v is not None or k == "success"}


def status_json(row: Any) -> dict[str, Any]:
    item = {
        "id": row["id"],
        "jobName": row["job_name"],
        "originalTaskId": row["original_task_id"],
        "taskId": row["task_id"],
        "slaveId": row["slave_id"],
        "source": row["source"],
        "executionType": row["execution_type"],
        "shardingItems": row["sharding_item"],
        "state": row["state"],
        "message": row["message"],
        "creationTime": format_time(row["creation_time"]),
    }
    return {k: v for k, v in item.items() if v is not None}
