"""Request body parsing shared by the blueprints (content type is not trusted: curl -d sends forms)."""

from __future__ import annotations

import json
from typing import Any

from flask import Response, request

from ..exceptions import InvalidConfig


def json_body() -> Any:
    raw = request.get_data(cache=True, as_text=True)
    if not raw.strip():
        raise InvalidConfig("request body is empty: a JSON object is expected", {"_schema": ["empty body"]})
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise InvalidConfig(f"malformed JSON: {exc}", {"_schema": [f"malformed JSON: {exc}"]}) from None


def name_body(field: str = "jobName") -> str:
    """A name sent as the whole body: ``foo_job``, ``"foo_job"`` or ``{"jobName": "foo_job"}``."""
    raw = request.get_data(cache=True, as_text=True).strip()
    name: Any = raw
    if raw.startswith(('"', "{")):
        try:
            name = json.loads(raw)
        except ValueError:
            raise InvalidConfig(f"malformed JSON: {raw[:80]!r}", {field: ["malformed JSON"]}) from None
        if isinstance(name, dict):
            name = name.get(field)
    if not isinstance(name, str) or not name.strip():
        raise InvalidConfig(
            f"{field}: the body must be the {field}", {field: ["missing in the request body"]}
        )
    return name.strip()


def json_response(payload: Any, status: int = 200) -> Any:
    """JSON in the given key order (Flask's jsonify would sort keys)."""
    return Response(json.dumps(payload, ensure_ascii=False), status=status, mimetype="application/json")


def no_content() -> Any:
    return Response(status=204)
