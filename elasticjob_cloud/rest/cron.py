"""Fire-time previews: any expression, or a registered job's schedule."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, request

from ..lifecycle import parse_after, parse_count, preview_fire_times
from .apps import lifecycle, services
from .bodies import json_response
from .contract import ANY_JSON, COUNT_QUERY, PREVIEW_QUERY, documented

blueprint = Blueprint("cron", __name__)


@blueprint.get("/api/cron/preview")
@documented("The next fire times of any expression", ok=ANY_JSON, status="200", query=PREVIEW_QUERY)
def preview() -> Any:
    service = services()
    args = request.args
    return json_response(
        preview_fire_times(
            args.get("cron"),
            args.get("timeZone") or service.time_zone,
            parse_after(args.get("after"), service.clock()),
            parse_count(args.get("count")),
        )
    )


@blueprint.get("/api/job/jobs/<job:job_name>/next-fire-times")
@documented("The next fire times of a job", ok=ANY_JSON, status="200", errors=("404",), query=COUNT_QUERY)
def next_fire_times(job_name: str) -> Any:
    service = services()
    after = parse_after(request.args.get("after"), service.clock())
    count = parse_count(request.args.get("count"))
    return json_response(lifecycle().next_fire_times(job_name, service.time_zone, after, count))
