"""``/api/job/statistics/tasks/*`` and ``/jobs/running``, ``/jobs/register``: the original's dashboard
data, read from the statistics tables (``trace.statistics``).

As the original: ``tasks/results?since=last24hours`` lists MINUTE rows of the last 24 hours;
``tasks/results/online`` sums every DAY row, ``lastWeek`` the DAY rows of the last 7 days,
``lastHour`` / ``lastMinute`` are the latest HOUR / MINUTE row; ``tasks/running`` and
``jobs/running`` list minute rows (``since=lastWeek``); ``jobs/register`` lists every day's row.
A missing ``since`` answers ``[]`` as the original did; an unknown one is a 400 naming it. Without an
event trace database the original's empty answers are given (``[]`` or zero counts).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask import Blueprint, request

from ..exceptions import InvalidConfig
from ..trace import schema
from .apps import services
from .bodies import json_response
from .contract import ANY_JSON, documented, query

blueprint = Blueprint("statistics", __name__, url_prefix="/api/job/statistics")

SINCE = {
    "lastMinute": timedelta(minutes=1),
    "lastHour": timedelta(hours=1),
    "last24hours": timedelta(hours=24),
    "lastWeek": timedelta(days=7),
}
PERIODS = ("online", "lastWeek", "lastHour", "lastMinute")
ORIGIN = datetime(2016, 12, 16)  # the original's "online since" date


def _since() -> timedelta | None:
    text = request.args.get("since", "")
    if text == "":
        return None
    if text not in SINCE:
        raise InvalidConfig.field("since", f"{text!r}: one of {', '.join(SINCE)}")
    return SINCE[text]


def _now() -> datetime:
    service = services().trace
    assert service is not None
    return service.statistics.local(service.clock())


@blueprint.get("/tasks/results")
@documented(
    "Task results per minute",
    ok=ANY_JSON,
    status="200",
    query=(query("since", {"type": "string", "enum": ["", *SINCE]}),),
)
def task_results() -> Any:
    window = _since()
    service = services().trace
    if window is None or service is None:
        return json_response([])
    with service.reading():
        return json_response(service.statistics.task_results(_now() - window))


@blueprint.get("/tasks/results/<period>")
@documented(
    "Task results: online | lastWeek | lastHour | lastMinute",
    ok=ANY_JSON,
    status="200",
    path={"period": {"type": "string", "enum": list(PERIODS)}},
)
def task_results_of(period: str) -> Any:
    if period not in PERIODS:
        raise InvalidConfig.field("period", f"{period!r}: one of {', '.join(PERIODS)}")
    service = services().trace
    interval = {"online": "DAY", "lastWeek": "DAY", "lastHour": "HOUR", "lastMinute": "MINUTE"}[period]
    if service is None:
        return json_response({"successCount": 0, "failedCount": 0, "statisticInterval": interval})
    statistics = service.statistics
    with service.reading():
        if period == "online":
            return json_response(statistics.summed_results("DAY", ORIGIN))
        if period == "lastWeek":
            today = _now().replace(hour=0, minute=0, second=0, microsecond=0)
            return json_response(statistics.summed_results("DAY", today - timedelta(days=7)))
        return json_response(statistics.latest_results(interval))


def _running(table: Any) -> Any:
    window = _since()
    service = services().trace
    if window is None or service is None:
        return json_response([])
    with service.reading():
        return json_response(service.statistics.running(table, _now() - window))


@blueprint.get("/tasks/running")
@documented(
    "Running tasks per minute",
    ok=ANY_JSON,
    status="200",
    query=(query("since", {"type": "string", "enum": ["", *SINCE]}),),
)
def tasks_running() -> Any:
    return _running(schema.task_running)


@blueprint.get("/jobs/running")
@documented(
    "Running jobs per minute",
    ok=ANY_JSON,
    status="200",
    query=(query("since", {"type": "string", "enum": ["", *SINCE]}),),
)
def jobs_running() -> Any:
    return _running(schema.job_running)


@blueprint.get("/jobs/register")
@documented("Registered jobs per day", ok=ANY_JSON, status="200")
def jobs_register() -> Any:
    service = services().trace
    if service is None:
        return json_response([])
    with service.reading():
        return json_response(service.statistics.registered(ORIGIN))
