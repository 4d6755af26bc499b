"""The one place where exceptions become HTTP answers: JSON, the right status, never a stack trace."""

from __future__ import annotations

import logging
from urllib.parse import quote

from flask import Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException, MethodNotAllowed, RequestEntityTooLarge

from ..core.limits import MAX_BODY_BYTES
from ..exceptions import ElasticJobError, InvalidConfig, NotLeader

log = logging.getLogger(__name__)


def error_body(message: str, errors: dict[str, list[str]] | None = None) -> dict[str, object]:
    return {"message": message, "errors": errors or {}}


def leader_location(leader_url: str) -> str:
    """The same path (re-quoted: Flask hands it decoded) and raw query on the leader's REST API."""
    query = request.query_string.decode("latin-1")
    return leader_url.rstrip("/") + quote(request.path, safe="/@:") + (f"?{query}" if query else "")


def install_error_handlers(app: Flask) -> None:
    @app.errorhandler(ElasticJobError)
    def project_error(exc: ElasticJobError) -> tuple[Response, int] | Response:
        if isinstance(exc, NotLeader) and exc.leader_url:
            # 307 keeps the method and the body: the leader answers the very same request.
            response = jsonify(error_body(exc.message))
            response.status_code = 307
            response.headers["Location"] = leader_location(exc.leader_url)
            return response
        errors = exc.errors if isinstance(exc, InvalidConfig) else None
        if exc.status >= 500:
            log.warning("request failed: %s", exc.message)
        response = jsonify(error_body(exc.message, errors))
        response.headers.update(getattr(exc, "headers", {}))  # WWW-Authenticate, Retry-After
        return response, exc.status

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Response:
        message = exc.description or exc.name
        if isinstance(exc, MethodNotAllowed):
            allowed = ", ".join(sorted(exc.valid_methods or ()))
            message = f"method {request.method} is not allowed on {request.path[:200]}; allowed: {allowed}"
        elif isinstance(exc, RequestEntityTooLarge):
            sent = request.content_length
            size = f" ({sent} bytes)" if sent else ""
            message = f"request body too large{size}: at most {MAX_BODY_BYTES} bytes are accepted"
        response = jsonify(error_body(message))
        response.status_code = exc.code or 500
        for name, value in exc.get_headers():
            if name.lower() != "content-type":  # e.g. Allow on a 405
                response.headers[name] = value
        return response

    @app.errorhandler(Exception)
    def unexpected(exc: Exception) -> tuple[Response, int]:
        log.exception("unexpected error while serving a request")
        return jsonify(error_body("internal error: see the scheduler log")), 500
