"""The Flask application factory: blueprints plus the one error mapping."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from flask import Flask

from ..core.limits import MAX_BODY_BYTES
from ..core.ports import AuditLog, SchedulerControl
from ..lifecycle import Lifecycle
from ..metrics import Metrics
from ..trace.service import TraceService
from . import (
    apps,
    cron,
    dependencies,
    history,
    jobs,
    legacy,
    metrics,
    openapi,
    operations,
    statistics,
    webconsole,
)
from .audit import MemoryAuditLog, install_audit
from .auth import install_auth
from .contract import CONVERTERS
from .credentials import Authenticator
from .errors import install_error_handlers


@dataclass
class Services:
    """What the blueprints reach through ``current_app.extensions["elasticjob"]``."""

    lifecycle: Lifecycle
    time_zone: str = "UTC"  # for cron expressions without their own timeZone
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    control: SchedulerControl | None = None  # this process's scheduler side; None: API only
    metrics: Metrics | None = None  # served at /metrics
    auth: Authenticator | None = None  # None: authentication off, everyone is admin
    trace: TraceService | None = None  # the event trace; None: not configured
    audit: AuditLog = field(default_factory=MemoryAuditLog)  # every accepted write


def create_app(services: Services) -> Flask:
    app = Flask("elasticjob_cloud", static_folder=None)  # the console serves its own files (webconsole)
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES  # larger bodies: 413 before they are read
    app.url_map.merge_slashes = False  # /api/app/%2F is a 404, not a redirect to another resource
    app.url_map.converters.update(CONVERTERS)  # <app:…>, <job:…>: name segments (rest.contract)
    # OPTIONS is not part of the API: 405 with the Allow header, like any method a route lacks.
    app.config["PROVIDE_AUTOMATIC_OPTIONS"] = False
    app.extensions["elasticjob"] = services
    for module in (
        apps,
        cron,
        dependencies,
        history,
        jobs,
        legacy,
        metrics,
        openapi,
        operations,
        statistics,
        webconsole,
    ):
        app.register_blueprint(module.blueprint)
    install_auth(app)
    install_audit(app)
    install_error_handlers(app)
    return app
