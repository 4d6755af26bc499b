"""How a route describes itself to the OpenAPI document: one decorator next to the route.

``@documented("Publish an app", body=ref("App"), errors=("409",))`` stores an ``Operation`` on the
view; ``rest.openapi`` walks Flask's ``url_map`` and writes one document operation per route and
method from it, so the document lists exactly what Flask serves (``tests/rest/test_openapi.py``
proves it). A route that is not part of the API (the console's static files, ``/metrics``) is named
in ``UNDOCUMENTED`` with the reason; any other route without ``@documented`` fails that test.

Path parameters are declared from the route's own arguments: ``<app:app_name>`` is ``appName``
with the one name rule (``core.names``) as its schema; any other argument needs its schema in
``Operation.path``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from werkzeug.routing import BaseConverter

from ..core.names import NAME_MAX_LENGTH, NAME_REGEX, RESERVED_NAMES

F = TypeVar("F", bound=Callable[..., Any])

# Endpoints (or endpoint prefixes ending in ".") served but deliberately not in the API document.
UNDOCUMENTED: dict[str, str] = {
    "static": "Flask's static files",
    "console.index": "the web console's page, not an API",
    "console.asset": "the web console's scripts, styles and libraries, not an API",
    "metrics.": "Prometheus text exposition, not JSON: documented in README",
    "openapi.": "the document itself",
}

# Statuses any operation may answer besides its own: bad input, authentication, ZooKeeper down.
COMMON_ERRORS = ("400", "401", "403", "503")


@dataclass(frozen=True)
class Operation:
    summary: str
    body: dict[str, Any] | None = None  # the requestBody object
    ok: dict[str, Any] | None = None  # the success answer's content, e.g. ``ref("App")``
    status: str = "204"
    errors: tuple[str, ...] = ()
    query: tuple[dict[str, Any], ...] = ()  # parameter objects ``in: query``
    path: dict[str, dict[str, Any]] = field(default_factory=dict)  # schema of other path arguments
    more: dict[str, dict[str, Any]] = field(default_factory=dict)  # other success answers: status → content


def documented(summary: str, **details: Any) -> Callable[[F], F]:
    def mark(view: F) -> F:
        view.openapi_operation = Operation(summary, **details)  # type: ignore[attr-defined]
        return view

    return mark


def operation_of(view: Callable[..., Any]) -> Operation | None:
    return getattr(view, "openapi_operation", None)


def is_undocumented(endpoint: str) -> bool:
    return any(endpoint == key or (key.endswith(".") and endpoint.startswith(key)) for key in UNDOCUMENTED)


# ------------------------------------------------------------------------------------ shapes


def json_content(schema: dict[str, Any]) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": schema}}}


def ref(name: str) -> dict[str, Any]:
    return json_content({"$ref": f"#/components/schemas/{name}"})


def request_body(name: str) -> dict[str, Any]:
    return {"required": True, **ref(name)}


def list_of(name: str) -> dict[str, Any]:
    return json_content({"type": "array", "items": {"$ref": f"#/components/schemas/{name}"}})


def name_schema(field_name: str) -> dict[str, Any]:
    """The one name rule as a JSON schema (reserved names folded into the pattern)."""
    reserved = "".join(f"(?!{word}$)" for word in sorted(RESERVED_NAMES.get(field_name, ())))
    return {"type": "string", "pattern": "^" + reserved + NAME_REGEX[1:], "maxLength": NAME_MAX_LENGTH}


def name_request_body(field_name: str = "jobName") -> dict[str, Any]:
    """A name sent as the whole body: plain text, a JSON string or ``{"jobName": …}``."""
    return {
        "required": True,
        "description": f"the {field_name}; with Content-Type application/json a body that is not JSON "
        f"at all is the name itself (the original's guide sends -d foo_job that way)",
        "content": {
            "application/json": {
                "schema": {
                    "oneOf": [
                        name_schema(field_name),
                        {
                            "type": "object",
                            "properties": {field_name: name_schema(field_name)},
                            "required": [field_name],
                        },
                    ]
                }
            },
            "text/plain": {"schema": name_schema(field_name)},
        },
    }


def query(name: str, schema: dict[str, Any], required: bool = False, description: str = "") -> dict[str, Any]:
    parameter = {"name": name, "in": "query", "required": required, "schema": schema}
    if description:
        parameter["description"] = description
    return parameter


def may_be_empty(parameter: dict[str, Any]) -> dict[str, Any]:
    """A query parameter whose empty value (``?per_page=``) means "not given": the console's shared
    URLs carry every filter, set or not."""
    return {**parameter, "allowEmptyValue": True}


BOOLEAN = json_content({"type": "boolean"})
ANY_JSON = json_content({})


# ------------------------------------------------------------------------------ path arguments


class _NameConverter(BaseConverter):
    """A name segment; the names a fixed sibling route owns (``list``, ``jobs``) do not match, so
    ``DELETE /api/app/list`` is a 405 of ``/api/app/list``, not the deletion of an app ``list``."""

    field_name = ""
    part_isolating = True  # one path segment

    def __init__(self, url_map: Any) -> None:
        super().__init__(url_map)
        words = sorted(RESERVED_NAMES.get(self.field_name, ()))
        self.regex = "".join(f"(?!{word}$)" for word in words) + "[^/]+"


class AppNameConverter(_NameConverter):
    field_name = "appName"


class JobNameConverter(_NameConverter):
    field_name = "jobName"


CONVERTERS = {"app": AppNameConverter, "job": JobNameConverter}
PATH_NAMES = {"app_name": "appName", "job_name": "jobName"}


# --------------------------------------------------------------------- shared operation parts

EMPTY = {"type": "string", "enum": [""]}  # an empty query value means "not given"
# A time filter: ISO 8601 (what JSON Schema's date-time states), also the original's
# ``yyyy-MM-dd HH:mm:ss`` (in the description: a pattern could not tell 2024-02-30 from a date).
TIME_QUERY = {"anyOf": [{"type": "string", "format": "date-time"}, EMPTY]}
COUNT_QUERY = (
    query(
        "count",
        {"anyOf": [{"type": "integer", "minimum": 1, "maximum": 1000}, EMPTY]},
        description="default 10",
    ),
    query(
        "after",
        {"anyOf": [{"type": "string", "format": "date-time"}, EMPTY]},
        description="ISO-8601; without an offset, a wall time in the schedule's zone; default now",
    ),
)
PREVIEW_QUERY = (
    query(
        "cron",
        {"type": "string", "format": "quartz-cron"},
        required=True,
        description="Quartz (6-7 fields) or Unix (5 fields) expression in ASCII, at most 1024 characters",
    ),
    *COUNT_QUERY,
    query(
        "timeZone",
        {"anyOf": [{"type": "string", "format": "iana-time-zone"}, EMPTY]},
        description="IANA zone name; default the scheduler's",
    ),
)
SANDBOX = json_content(
    {
        "type": "array",
        "items": {
            "type": "object",
            "properties": {"hostname": {"type": "string"}, "path": {"type": "string"}},
        },
    }
)
TASK_ID_PATTERN = (
    r"^[A-Za-z0-9_.-]{1,100}@-@[0-9]{1,9}@-@(READY|FAILOVER)@-@[A-Za-z0-9_.-]{1,200}@-@[A-Za-z0-9_.-]{1,100}$"
)
TASK_OUTPUT_MAX = 65_536
TASK_OUTPUT = json_content(
    {
        "type": "object",
        "properties": {
            "taskId": {"type": "string"},
            "file": {"type": "string", "enum": ["stdout", "stderr"]},
            "hostname": {"type": "string"},
            "path": {"type": "string"},
            "size": {"type": "integer", "minimum": 0},
            "offset": {"type": "integer", "minimum": 0},
            "data": {"type": "string"},
        },
        "required": ["taskId", "file", "hostname", "path", "size", "offset", "data"],
    }
)
TASK_OUTPUT_QUERY = (
    query(
        "taskId",
        {"type": "string", "pattern": TASK_ID_PATTERN},
        required=True,
        description="{jobName}@-@{shardingItem}@-@{READY|FAILOVER}@-@{agentId}@-@{uuid}, as /api/job/tasks/running lists",
    ),
    query("file", {"type": "string", "enum": ["stdout", "stderr"]}, description="default stdout"),
    query(
        "length",
        {"type": "integer", "minimum": 1, "maximum": TASK_OUTPUT_MAX},
        description=f"bytes from the end of the file; default and at most {TASK_OUTPUT_MAX}",
    ),
)
LOGIN = {
    "required": True,
    **json_content(
        {
            "type": "object",
            "properties": {
                "username": {"type": "string", "minLength": 1},
                "password": {"type": "string", "minLength": 1},
            },
            "required": ["username", "password"],
        }
    ),
}
LEGACY_JOB = request_body("LegacyJob")
