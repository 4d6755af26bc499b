"""Request body parsing shared by the blueprints (content type is not trusted: curl -d sends forms).

Bodies are at most ``core.limits.MAX_BODY_BYTES`` (Flask's ``MAX_CONTENT_LENGTH``, set in
``rest.app``: a larger one is answered 413 before it is read). JSON is strict: no ``NaN`` or
``Infinity`` literals, and nesting too deep for the parser is a 400, not a crash.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Response, request

from ..core.names import shown
from ..exceptions import InvalidConfig


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def parse_json(raw: str) -> Any:
    """``json.loads`` that refuses NaN/Infinity and turns too-deep nesting into InvalidConfig."""
    try:
        return json.loads(raw, parse_constant=_refuse_constant)
    except RecursionError:
        raise InvalidConfig(
            "malformed JSON: nested too deeply", {"_schema": ["JSON nested too deeply"]}
        ) from None
    except ValueError as exc:
        raise InvalidConfig(f"malformed JSON: {exc}", {"_schema": [f"malformed JSON: {exc}"]}) from None


def json_body() -> Any:
    raw = request.get_data(cache=True, as_text=True)
    if not raw.strip():
        raise InvalidConfig("request body is empty: a JSON object is expected", {"_schema": ["empty body"]})
    return parse_json(raw)


def name_body(field: str = "jobName") -> str:
    """A name sent as the whole body: ``foo_job``, ``"foo_job"`` or ``{"jobName": "foo_job"}``.

    Only its form is checked here; the name rule itself is applied by the use case (``lifecycle``).
    With ``Content-Type: application/json`` a body that parses as JSON must be a string or that
    object; any other body is the name as written.
    """
    raw = request.get_data(cache=True, as_text=True).strip()
    name: Any = raw
    if raw.startswith(('"', "{")):
        try:
            name = parse_json(raw)
        except InvalidConfig:
            raise InvalidConfig(
                f"{field}: malformed JSON: {shown(raw)}", {field: ["malformed JSON"]}
            ) from None
    elif request.mimetype == "application/json":
        # JSON sent as JSON: ``null``, ``42`` or ``[…]`` is not a name. Text that is not JSON at all
        # (``-d foo_job`` with this content type, as the original's guide does) is the name itself.
        try:
            name = parse_json(raw)
        except InvalidConfig:
            name = raw
    if isinstance(name, dict):
        name = name.get(field)
    if name is None or (isinstance(name, str) and not name.strip()):
        raise InvalidConfig(
            f"{field}: the body must be the {field}", {field: ["missing in the request body"]}
        )
    if not isinstance(name, str):
        raise InvalidConfig.field(field, f"must be a string, got {shown(name)}")
    return name.strip()


def json_response(payload: Any, status: int = 200) -> Any:
    """JSON in the given key order (Flask's jsonify would sort keys)."""
    return Response(json.dumps(payload, ensure_ascii=False), status=status, mimetype="application/json")


def no_content() -> Any:
    return Response(status=204)
