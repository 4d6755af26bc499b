"""The audit log: every accepted write, who made it, and ``GET /api/audit`` to read it back.

After each request (``record_write``, an after-request hook): a method other than GET/HEAD/OPTIONS
answered 2xx is recorded with the user and role (``rest.auth``), the time, the client address, the
method and path, the status and the body with secrets removed (any JSON key naming a password,
secret, token or credential is replaced by ``***``; the body is cut at 4,000 characters). The
logins themselves are not writes of the system and are not recorded. A failure to record is logged
and never fails the write that was already made.

``GET /api/audit`` pages like the history endpoints: ``page`` (1), ``per_page`` (10, at most 1000),
equality filters ``username``, ``role``, ``method``, ``address``, ``status``, a ``path`` prefix, and
``startTime`` / ``endTime`` (``yyyy-MM-dd HH:mm:ss`` in the scheduler's zone, or ISO 8601);
``{"total": N, "rows": [...]}``, newest first.

``MemoryAuditLog`` keeps the last entries in this process; the trace database's log replaces it
where one is configured.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections import deque
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, Flask, Response, current_app, g, request

from ..core.fields import NO_NUL, text_problem, whole_number
from ..core.ports import AuditEntry, AuditLog, AuditQuery
from ..exceptions import InvalidConfig
from .auth import LOGIN_ENDPOINTS, SAFE_METHODS
from .bodies import json_response
from .contract import ANY_JSON, TIME_QUERY, documented, may_be_empty, query
from .paging import query_number

log = logging.getLogger(__name__)
blueprint = Blueprint("audit", __name__)

MAX_BODY = 4000
MAX_PAGE = 10_000_000
SECRET_KEY = re.compile(r"pass|secret|token|credential", re.IGNORECASE)
FILTERS = ("username", "role", "method", "address", "status", "path")
NOT_AUDITED = LOGIN_ENDPOINTS | {"auth.close_session"}


def redact(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: "***" if SECRET_KEY.search(str(k)) else redact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(item) for item in value]
    return value


def safe_body(raw: str) -> str:
    """The body as sent, JSON with its secrets replaced; cut at ``MAX_BODY`` characters."""
    text = raw.strip()
    if text.startswith(("{", "[")):
        try:
            text = json.dumps(redact(json.loads(text)), ensure_ascii=False, separators=(",", ":"))
        except ValueError:
            text = "(malformed JSON not kept)" if SECRET_KEY.search(text) else text
    return text if len(text) <= MAX_BODY else text[: MAX_BODY - 1] + "…"


class MemoryAuditLog:
    """The last ``limit`` entries of this process (no trace database: lost at restart)."""

    persistent = False

    def __init__(self, limit: int = 10_000):
        self._entries: deque[AuditEntry] = deque(maxlen=limit)
        self._lock = threading.Lock()

    def record(self, entry: AuditEntry) -> None:
        with self._lock:
            self._entries.append(entry)

    def search(self, query: AuditQuery) -> tuple[int, list[AuditEntry]]:
        with self._lock:
            entries = list(self._entries)
        found = [entry for entry in reversed(entries) if _matches(entry, query)]
        return len(found), found[query.offset : query.offset + query.limit]


def _matches(entry: AuditEntry, query: AuditQuery) -> bool:
    for name, value in query.filters.items():
        actual = str(getattr(entry, name))
        if actual != value and not (name == "path" and actual.startswith(value)):
            return False
    if query.start is not None and entry.time < query.start:
        return False
    return query.end is None or entry.time <= query.end


def audit_log() -> AuditLog:
    found: AuditLog = current_app.extensions["elasticjob"].audit
    return found


def record_write(response: Response) -> Response:
    if request.method in SAFE_METHODS or not 200 <= response.status_code < 300:
        return response
    if request.endpoint in NOT_AUDITED or request.endpoint is None:
        return response
    identity = g.get("identity")
    try:
        audit_log().record(
            AuditEntry(
                time=current_app.extensions["elasticjob"].clock(),
                username=identity.username if identity else "",
                role=identity.role.value if identity else "",
                address=request.remote_addr or "",
                method=request.method,
                path=request.full_path.rstrip("?"),
                status=response.status_code,
                body=safe_body(request.get_data(cache=True, as_text=True)),
            )
        )
    except Exception:
        log.exception("recording %s %s in the audit log failed", request.method, request.path)
    return response


def install_audit(app: Flask) -> None:
    app.after_request(record_write)
    app.register_blueprint(blueprint)


def _time(name: str) -> datetime | None:
    raw = request.args.get(name, "").strip()
    if not raw:
        return None
    try:
        parsed = datetime.fromisoformat(raw)
    except ValueError:
        raise InvalidConfig.field(name, f"{raw[:40]!r}: expected yyyy-MM-dd HH:mm:ss") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=ZoneInfo(current_app.extensions["elasticjob"].time_zone))
    try:
        return parsed.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00:00+14:00 is before the first representable instant
        edge = datetime.min if parsed.year == 1 else datetime.max
        return edge.replace(tzinfo=UTC)


def entry_json(entry: AuditEntry) -> dict[str, Any]:
    return {
        "creationTime": entry.time.isoformat(),
        "username": entry.username,
        "role": entry.role,
        "address": entry.address,
        "method": entry.method,
        "path": entry.path,
        "status": entry.status,
        "body": entry.body,
    }


@blueprint.get("/api/audit")
@documented(
    "Accepted writes, newest first: {total, rows}",
    ok=ANY_JSON,
    status="200",
    query=(
        may_be_empty(query("page", {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": 1})),
        may_be_empty(query("per_page", {"type": "integer", "minimum": 1, "maximum": 1000, "default": 10})),
        *(
            query(name, {"type": "string", "pattern": NO_NUL})
            for name in FILTERS
            if name not in ("path", "status")
        ),
        may_be_empty(
            query("status", {"type": "integer", "minimum": 100, "maximum": 599}, description="empty: any")
        ),
        query("path", {"type": "string", "pattern": NO_NUL}, description="a prefix of the path"),
        query("startTime", TIME_QUERY, description="yyyy-MM-dd HH:mm:ss or ISO 8601; empty: none"),
        query("endTime", TIME_QUERY, description="yyyy-MM-dd HH:mm:ss or ISO 8601; empty: none"),
    ),
)
def search() -> Any:
    page = query_number("page", 1, MAX_PAGE)
    per_page = query_number("per_page", 10, 1000)
    filters = {name: request.args[name].strip() for name in FILTERS if request.args.get(name, "").strip()}
    for name, value in filters.items():
        if (problem := text_problem(value)) is not None:  # PostgreSQL refuses a NUL even in a comparison
            raise InvalidConfig.field(name, problem)
    if "status" in filters:
        status = whole_number(filters["status"])
        if status is None or not 100 <= status <= 599:
            raise InvalidConfig.field(
                "status", f"must be an HTTP status code, got {filters['status'][:40]!r}"
            )
    query = AuditQuery(filters, _time("startTime"), _time("endTime"), (page - 1) * per_page, per_page)
    total, rows = audit_log().search(query)
    return json_response({"total": total, "rows": [entry_json(entry) for entry in rows]})
