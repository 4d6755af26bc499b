"""``/api/operate`` (the original's reconcile and sandbox endpoints) and ``GET /health``.

Every instance serves these; the scheduler side (``Services.control``) decides who may act. A
standby raises ``NotLeader`` and ``rest.errors`` turns it into a 307 to the leader (same path and
query) or a 503 when no leader is known. A process without a scheduler (``control`` is None, e.g.
an API-only stack) answers 503 to reconcile and sandbox, and ``/health`` says
``{"role": "api-only", "leader": null, "message": "no scheduler in this process"}``.

Reconcile is rate limited as in the original: one last-accepted time shared by explicit and
implicit, a call within 10 s of it is refused. The original answered 500; this answers 429. Only
an accepted call (the scheduler took it) starts the 10 s window: a refusal by a standby does not.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from flask import Blueprint, current_app, request
from flask.blueprints import BlueprintSetupState

from ..core.names import require_name
from ..core.ports import SchedulerControl
from ..exceptions import InvalidConfig, NotLeader, TooManyRequests
from .bodies import json_response, no_content
from .contract import (
    ANY_JSON,
    SANDBOX,
    TASK_ID_PATTERN,
    TASK_OUTPUT,
    TASK_OUTPUT_MAX,
    TASK_OUTPUT_QUERY,
    documented,
    name_schema,
    query,
)

if TYPE_CHECKING:
    from .app import Services

blueprint = Blueprint("operations", __name__)

RECONCILE_INTERVAL = timedelta(seconds=10)
_LIMIT_KEY = "elasticjob.reconcile_limit"
NO_SCHEDULER = "no scheduler in this process"


class ReconcileLimit:
    """The shared last-accepted reconcile time (per process, as the original's static field)."""

    def __init__(self, interval: timedelta = RECONCILE_INTERVAL):
        self.interval = interval
        self._lock = threading.Lock()
        self._last: datetime | None = None

    @contextmanager
    def reserve(self, now: datetime) -> Iterator[None]:
        """Claim the window at ``now`` (TooManyRequests if taken); give it back if the body raises."""
        with self._lock:
            previous = self._last
            if previous is not None and now - previous < self.interval:
                wait = (previous + self.interval - now).total_seconds()
                raise TooManyRequests(
                    f"reconcile already requested {(now - previous).total_seconds():.1f}s ago; at most one"
                    f" (explicit or implicit) per {self.interval.total_seconds():g}s: retry in {wait:.1f}s"
                )
            self._last = now
        try:
            yield
        except BaseException:
            with self._lock:
                if self._last == now:
                    self._last = previous
            raise


@blueprint.record_once
def _install_limit(state: BlueprintSetupState) -> None:
    state.app.extensions[_LIMIT_KEY] = ReconcileLimit()


def services() -> Services:
    found: Services = current_app.extensions["elasticjob"]
    return found


def control() -> SchedulerControl:
    found = services().control
    if found is None:
        raise NotLeader(NO_SCHEDULER)
    return found


def _reconcile(explicit: bool) -> Any:
    scheduler = control()
    limit: ReconcileLimit = current_app.extensions[_LIMIT_KEY]
    with limit.reserve(services().clock()):
        scheduler.reconcile(explicit)
    return no_content()


@blueprint.post("/api/operate/reconcile/explicit")
@documented(
    "Reconcile the running tasks with Mesos (leader only; a standby answers 307)", errors=("307", "429")
)
def reconcile_explicit() -> Any:
    return _reconcile(explicit=True)


@blueprint.post("/api/operate/reconcile/implicit")
@documented("Ask Mesos for every task's state (leader only)", errors=("307", "429"))
def reconcile_implicit() -> Any:
    return _reconcile(explicit=False)


@blueprint.get("/api/operate/sandbox")
@documented(
    "Sandboxes of an app's executors (leader only)",
    ok=SANDBOX,
    status="200",
    errors=("307",),
    query=(query("appName", name_schema("appName"), required=True),),
)
def sandbox() -> Any:
    app_name = request.args.get("appName", "").strip()
    if not app_name:
        raise InvalidConfig.field("appName", "missing: give the app as ?appName=…")
    app_name = require_name(app_name, "appName")  # before asking the scheduler
    return json_response(control().sandbox(app_name))


@blueprint.get("/api/operate/sandbox/tail")
@documented(
    "The tail of a task's stdout or stderr, read through its Mesos agent (leader only; viewers may read)",
    ok=TASK_OUTPUT,
    status="200",
    errors=("307", "404", "502", "504"),
    query=TASK_OUTPUT_QUERY,
)
def sandbox_tail() -> Any:
    task_id, file, length = _tail_parameters()
    return json_response(control().task_output(task_id, file, length))


def _tail_parameters() -> tuple[str, str, int]:
    """``taskId`` (the original's task ID), ``file`` (stdout | stderr), ``length`` (1..64 KiB)."""
    task_id = request.args.get("taskId", "")
    if not task_id:
        raise InvalidConfig.field(
            "taskId", "missing: give the task as ?taskId=… (GET /api/job/tasks/running)"
        )
    if not re.fullmatch(TASK_ID_PATTERN, task_id):
        raise InvalidConfig.field(
            "taskId",
            "not a task ID: {jobName}@-@{shardingItem}@-@{READY|FAILOVER}@-@{agentId}@-@{uuid} expected",
        )
    file = request.args.get("file", "stdout")
    if file not in ("stdout", "stderr"):
        raise InvalidConfig.field("file", f"{file[:50]!r} is not stdout or stderr")
    text = request.args.get("length", str(TASK_OUTPUT_MAX))
    if not text.isascii() or not text.isdigit() or not 1 <= int(text) <= TASK_OUTPUT_MAX:
        raise InvalidConfig.field("length", f"{text[:50]!r} is not a byte count from 1 to {TASK_OUTPUT_MAX}")
    return task_id, file, int(text)


@blueprint.get("/health")
@documented("Role of this instance, the leader, ZooKeeper and Mesos state", ok=ANY_JSON, status="200")
def health() -> Any:
    found = services().control
    if found is None:
        return json_response({"role": "api-only", "leader": None, "message": NO_SCHEDULER})
    return json_response(found.health())
