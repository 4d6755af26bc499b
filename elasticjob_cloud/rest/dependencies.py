"""``/api/job/{jobName}/dependencies`` and ``/api/job/dependencies/graph`` (issue #17): what a job
waits for, what waits for it, the state of each edge, and the graph of all jobs for the console."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, request

from ..exceptions import InvalidConfig
from .apps import lifecycle
from .bodies import json_response
from .contract import documented, json_content, query

blueprint = Blueprint("dependencies", __name__, url_prefix="/api/job")

_EDGE = {
    "type": "object",
    "properties": {
        "jobName": {"type": "string"},
        "state": {"type": "string", "enum": ["WAITING", "SATISFIED", "FAILED"]},
        "at": {"type": "number", "nullable": True},
    },
}
DEPENDENCIES = json_content(
    {
        "type": "object",
        "properties": {
            "jobName": {"type": "string"},
            "dependencyPolicy": {"type": "string", "enum": ["ALL_SUCCEEDED", "ALL_DONE"]},
            "upstreams": {"type": "array", "items": _EDGE},
            "downstreams": {"type": "array", "items": _EDGE},
            "queuedRuns": {"type": "integer"},
            "lastQueuedAt": {"type": "number", "nullable": True},
        },
    }
)
GRAPH = json_content(
    {
        "type": "object",
        "properties": {
            "nodes": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"id": {"type": "string"}, "dependencyPolicy": {"type": "string"}},
                },
            },
            "edges": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"from": {"type": "string"}, "to": {"type": "string"}},
                },
            },
        },
    }
)
CASCADE = query(
    "cascade",
    {"type": "string", "enum": ["true", "false", ""]},
    description="true: also deregister every job that depends on this one (directly or not)",
)


def cascade_requested() -> bool:
    """``?cascade=true|false`` (absent or empty: false); anything else is a 400 naming it."""
    raw = request.args.get("cascade", "").strip().lower()
    if raw not in ("", "true", "false"):
        raise InvalidConfig.field("cascade", f"must be true or false, got {raw[:40]!r}")
    return raw == "true"


@blueprint.get("/<job:job_name>/dependencies")
@documented(
    "A job's upstreams and downstreams, with the state of each edge",
    ok=DEPENDENCIES,
    status="200",
    errors=("404",),
)
def job_dependencies(job_name: str) -> Any:
    return json_response(lifecycle().job_dependencies(job_name))


@blueprint.get("/dependencies/graph")
@documented("Every job and every dependency edge (upstream → downstream)", ok=GRAPH, status="200")
def dependency_graph() -> Any:
    return json_response(lifecycle().dependency_graph())
