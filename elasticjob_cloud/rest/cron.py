"""Fire-time previews: any expression, or a registered job's schedule."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, request

from ..lifecycle import parse_after, parse_count, preview_fire_times
from .apps import lifecycle
from .bodies import json_response

blueprint = Blueprint("cron", __name__)


def _services() -> Any:
    return current_app.extensions["elasticjob"]


@blueprint.get("/api/cron/preview")
def preview() -> Any:
    services = _services()
    args = request.args
    return json_response(
        preview_fire_times(
            args.get("cron"),
            args.get("timeZone") or services.time_zone,
            parse_after(args.get("after"), services.clock()),
            parse_count(args.get("count")),
        )
    )


@blueprint.get("/api/job/jobs/<job_name>/next-fire-times")
def next_fire_times(job_name: str) -> Any:
    services = _services()
    after = parse_after(request.args.get("after"), services.clock())
    count = parse_count(request.args.get("count"))
    return json_response(lifecycle().next_fire_times(job_name, services.time_zone, after, count))
