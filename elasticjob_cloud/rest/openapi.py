"""``GET /api/openapi.json``: the OpenAPI 3 document, generated from the routes Flask serves.

Each route carries its description (``rest.contract.documented``); bodies are the marshmallow
schemas of ``core.schemas``, whose fields carry every bound the server enforces (lengths, ranges,
the name pattern). What JSON Schema cannot state is named by a format of ours and described:
``quartz-cron`` (the cron dialect in README), ``iana-time-zone``, ``sharding-item-parameters``
(``item=value,…`` with items below ``shardingTotalCount``).
Routes outside the API are listed in ``rest.contract.UNDOCUMENTED``.
"""

from __future__ import annotations

import re
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Blueprint, Flask, current_app

from ..core.limits import MAX_BODY_BYTES, TEXT_LIMITS
from ..core.schemas import NONBLANK, AppSchema, JobSchema
from .auth import LOGIN_ENDPOINTS, OPEN_PATHS
from .bodies import json_response
from .contract import COMMON_ERRORS, PATH_NAMES, is_undocumented, name_schema, operation_of

blueprint = Blueprint("openapi", __name__)

IMPLICIT_METHODS = frozenset({"HEAD", "OPTIONS"})
_ERROR = {
    "description": "error: a message, and the messages of each field at fault",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
}
_ERROR_SCHEMA = {
    "type": "object",
    "properties": {
        "message": {"type": "string"},
        "errors": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}},
    },
    "required": ["message"],
}
_CRON_DESCRIPTION = (
    f"A Quartz (6-7 fields) or Unix (5 fields) cron expression in ASCII, at most "
    f"{TEXT_LIMITS['cron']} characters (README, 'Cron expressions')"
)
_ARGUMENT = re.compile(r"<(?:(\w+):)?(\w+)>")
_FORMATS = {
    "cron": "quartz-cron",
    "timeZone": "iana-time-zone",
    "shardingItemParameters": "sharding-item-parameters",
}


_NOT_GIVEN = {"enum": [None, ""]}  # a field absent, null or empty counts as not given
# ... and a DAEMON job has no ``dependsOn`` (absent, null or empty).
_DAEMON_WAITS_FOR_NOTHING: dict[str, Any] = {
    "anyOf": [
        {"properties": {"dependsOn": {"maxItems": 0}}},
        {"properties": {"jobExecutionType": {"enum": ["TRANSIENT"]}}},
    ]
}
# ... nor runs over itself (``concurrencyPolicy: ALLOW`` is for TRANSIENT jobs).
_DAEMON_DOES_NOT_OVERLAP: dict[str, Any] = {
    "anyOf": [
        {"properties": {"concurrencyPolicy": {"not": {"enum": ["ALLOW"]}}}},
        {"properties": {"jobExecutionType": {"enum": ["TRANSIENT"]}}},
    ]
}
# The cross-field rules of ``JobSchema.check_rules``: SIMPLE and DATAFLOW need ``jobClass``, SCRIPT
# needs ``scriptCommandLine``; ``beanName`` and ``applicationContext`` come together or not at all.
_JOB_RULES: list[dict[str, Any]] = [
    {
        "anyOf": [
            {
                "properties": {
                    "jobType": {"enum": ["SIMPLE", "DATAFLOW"]},
                    "jobClass": {"type": "string", "pattern": NONBLANK},
                },
                "required": ["jobClass"],
            },
            {
                "properties": {
                    "jobType": {"enum": ["SCRIPT"]},
                    "scriptCommandLine": {"type": "string", "pattern": NONBLANK},
                },
                "required": ["scriptCommandLine"],
            },
        ]
    },
    {
        "anyOf": [
            {"properties": {"beanName": _NOT_GIVEN, "applicationContext": _NOT_GIVEN}},
            {
                "properties": {
                    "beanName": {"type": "string", "minLength": 1},
                    "applicationContext": {"type": "string", "minLength": 1},
                },
                "required": ["beanName", "applicationContext"],
            },
        ]
    },
    # ``cron`` is required unless ``dependsOn`` names upstream jobs (issue #17) ...
    {
        "anyOf": [
            {"required": ["cron"]},
            {"required": ["dependsOn"], "properties": {"dependsOn": {"type": "array", "minItems": 1}}},
        ]
    },
    _DAEMON_WAITS_FOR_NOTHING,
    _DAEMON_DOES_NOT_OVERLAP,
]


# A partial update checks these only between fields it gives; with what is stored it may be a 409.
_JOB_UPDATE_RULES: list[dict[str, Any]] = [
    {
        "anyOf": [
            {"not": {"required": ["jobType"]}},
            {"properties": {"jobType": {"enum": ["SIMPLE", "DATAFLOW"]}, "jobClass": {"pattern": NONBLANK}}},
            {"properties": {"jobType": {"enum": ["SCRIPT"]}, "scriptCommandLine": {"pattern": NONBLANK}}},
        ]
    },
    {"anyOf": [{"not": {"required": ["beanName", "applicationContext"]}}, *_JOB_RULES[1]["anyOf"]]},
    {
        "anyOf": [
            {"not": {"required": ["jobExecutionType", "dependsOn"]}},
            *_DAEMON_WAITS_FOR_NOTHING["anyOf"],
        ]
    },
    {
        "anyOf": [
            {"not": {"required": ["jobExecutionType", "concurrencyPolicy"]}},
            *_DAEMON_DOES_NOT_OVERLAP["anyOf"],
        ]
    },
]


def openapi_path(rule: str) -> str:
    """``/api/app/<app:app_name>`` → ``/api/app/{appName}``."""
    return _ARGUMENT.sub(lambda match: "{" + PATH_NAMES.get(match.group(2), match.group(2)) + "}", rule)


def documented_routes(app: Flask) -> list[tuple[str, str, Any]]:
    """``(rule, method, view)`` of every route and method the document must list."""
    found = []
    for rule in app.url_map.iter_rules():
        if is_undocumented(rule.endpoint):
            continue
        view = app.view_functions[rule.endpoint]
        for method in sorted((rule.methods or set()) - IMPLICIT_METHODS):
            found.append((rule.rule, method, view))
    return found


def _components(spec: APISpec) -> None:
    updatable = {"appName"}
    spec.components.schema("App", schema=AppSchema)
    spec.components.schema(
        "AppUpdate", schema=AppSchema(partial=[f for f in AppSchema().fields if f not in updatable])
    )
    spec.components.schema("Job", schema=JobSchema)
    spec.components.schema(
        "JobUpdate", schema=JobSchema(partial=[f for f in JobSchema().fields if f != "jobName"])
    )
    spec.components.schema("Error", _ERROR_SCHEMA)


def _refine(document: dict[str, Any]) -> None:
    """What the marshmallow fields cannot say: formats, and the legacy body built from Job and App."""
    schemas = document["components"]["schemas"]
    for name in ("App", "AppUpdate", "Job", "JobUpdate"):
        for field_name, value in schemas[name]["properties"].items():
            if field_name in _FORMATS:
                value["format"] = _FORMATS[field_name]
                if field_name == "cron":  # its length bound is part of the format, described here
                    value.pop("maxLength", None)
                    value.pop("pattern", None)
                    value["description"] = _CRON_DESCRIPTION
    for name in ("Job", "JobUpdate"):  # a nullable nested object (``retry``): the object, or null only
        for value in schemas[name]["properties"].values():
            for i, choice in enumerate(value.get("anyOf", ())):
                if choice == {"type": "object", "nullable": True}:
                    value["anyOf"][i] = {"type": "object", "nullable": True, "enum": [None]}
    schemas["Job"]["allOf"] = _JOB_RULES
    schemas["JobUpdate"]["allOf"] = _JOB_UPDATE_RULES
    job, app = schemas["Job"]["properties"], schemas["App"]["properties"]
    schemas["LegacyJob"] = {
        "type": "object",
        "description": "The prototype's flat job: a TRANSIENT SCRIPT job running bin/start.sh of its own app",
        "properties": {
            "jobName": job["jobName"],
            "cron": job["cron"],
            "shardingTotalCount": job["shardingTotalCount"],
            "cpuCount": job["cpuCount"],
            "memoryMB": job["memoryMB"],
            "appURL": app["appURL"],
            "failover": job["failover"],
            "misfire": job["misfire"],
            "dockerImageName": job["dockerImageName"],
        },
        "required": ["jobName", "cron", "shardingTotalCount", "cpuCount", "memoryMB", "appURL"],
    }


def _parameters(rule: str, operation: Any) -> list[dict[str, Any]]:
    parameters = []
    for _, argument in _ARGUMENT.findall(rule):
        name = PATH_NAMES.get(argument, argument)
        schema = operation.path.get(argument) or (name_schema(name) if argument in PATH_NAMES else None)
        if schema is None:
            raise ValueError(f"{rule}: path argument {argument!r} has no schema (Operation.path)")
        parameters.append({"name": name, "in": "path", "required": True, "schema": schema})
    return parameters + list(operation.query)


def _operation(rule: str, view: Any) -> dict[str, Any]:
    operation = operation_of(view)
    if operation is None:
        raise ValueError(f"{rule}: the route has no @documented description (rest.contract)")
    responses: dict[str, Any] = {operation.status: {"description": "ok", **(operation.ok or {})}}
    responses.update({code: {"description": "ok", **content} for code, content in operation.more.items()})
    for code in sorted({*COMMON_ERRORS, *operation.errors}):
        responses[code] = _ERROR
    result: dict[str, Any] = {"summary": operation.summary, "responses": responses}
    parameters = _parameters(rule, operation)
    if parameters:
        result["parameters"] = parameters
    if operation.body is not None:
        result["requestBody"] = operation.body
    return result


def build_spec(app: Flask) -> dict[str, Any]:
    spec = APISpec(
        title="elasticjob-cloud",
        version="1",
        openapi_version="3.0.3",
        plugins=[MarshmallowPlugin()],
        info={"description": f"Request bodies are at most {MAX_BODY_BYTES} bytes (413 beyond)."},
    )
    _components(spec)
    paths: dict[str, dict[str, Any]] = {}
    for rule, method, view in documented_routes(app):
        paths.setdefault(openapi_path(rule), {})[method.lower()] = _operation(rule, view)
    for path in sorted(paths):
        spec.path(path=path, operations=paths[path])
    document = spec.to_dict()
    _refine(document)
    # Logins (rest.auth): HTTP Basic, a 3.x accessToken, or the console's session cookie. Declared
    # only when this process enforces them: with authentication off the document would promise a
    # refusal the server never gives.
    if app.extensions["elasticjob"].auth is None:
        return document
    document["components"]["securitySchemes"] = {
        "basic": {"type": "http", "scheme": "basic"},
        "accessToken": {"type": "apiKey", "in": "header", "name": "accessToken"},
        "session": {"type": "apiKey", "in": "cookie", "name": "ejc_session"},
    }
    document["security"] = [{"basic": []}, {"accessToken": []}, {"session": []}]
    _open_routes_and_throttling(app, document)
    return document


def _open_routes_and_throttling(app: Flask, document: dict[str, Any]) -> None:
    """What ``rest.auth`` does beyond the global requirement: the open routes (``/health``, the two
    login routes) take no credentials (``security: []``), and every route that checks a password
    (a Basic login, or a login route) may answer 429 once this address failed too often."""
    login_views = {app.view_functions[name] for name in LOGIN_ENDPOINTS if name in app.view_functions}
    for rule, method, view in documented_routes(app):
        path = openapi_path(rule)
        operation = document["paths"][path][method.lower()]
        if path in OPEN_PATHS or view in login_views:
            operation["security"] = []
        if path not in OPEN_PATHS:
            operation["responses"].setdefault("429", _ERROR)


@blueprint.get("/api/openapi.json")
def openapi() -> Any:
    return json_response(build_spec(current_app))
