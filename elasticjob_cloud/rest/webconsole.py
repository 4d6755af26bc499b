"""The web console: static files installed with the package, served at ``/`` by every instance.

Pages, scripts and styles live in ``rest/console/`` (package data); the front-end libraries are
copied into ``rest/console/vendor/`` by ``scripts/install.sh`` from npm (never committed, never
loaded from a CDN). The files themselves hold no data, so they are served without a login; every
API call they make is authenticated by ``rest.auth``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Blueprint, Response, current_app, send_from_directory

from .bodies import json_response
from .contract import ANY_JSON, documented

blueprint = Blueprint("console", __name__)

CONSOLE_DIR = Path(__file__).resolve().parent / "console"


def _no_store(response: Response) -> Response:
    # A new release must not be mixed with cached scripts of the last one.
    response.headers["Cache-Control"] = "no-cache"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; frame-ancestors 'none'"
    )
    return response


@blueprint.get("/")
def index() -> Any:
    return _no_store(send_from_directory(CONSOLE_DIR, "index.html"))


@blueprint.get("/console/<path:filename>")
def asset(filename: str) -> Any:
    return _no_store(send_from_directory(CONSOLE_DIR, filename))


@blueprint.get("/api/console/info")
@documented("What the console adapts to: trace configured, audit kept, time zone", ok=ANY_JSON, status="200")
def info() -> Any:
    """What the console adapts to: is an event trace database configured (else its history and
    statistics pages say so instead of showing empty tables), and the scheduler's default zone."""
    services = current_app.extensions["elasticjob"]
    return json_response(
        {
            "traceConfigured": getattr(services, "trace", None) is not None,
            "auditPersistent": bool(getattr(services.audit, "persistent", True)),
            "timeZone": services.time_zone,
        }
    )
