"""Use cases shared by the REST API and the CLI: apps, jobs, enable/disable, trigger.

Everything is validated before anything is written, and each change is one atomic registry
write, so a rejected or failed request changes nothing. Every app or job name that comes in (a
body, a path segment, a query) passes the one name rule (``core.names``) here, before it becomes a
ZooKeeper path. The scheduler reacts to these changes
through ZooKeeper watches, whichever scheduler instance served the request.
"""

from __future__ import annotations

import time
import uuid
from collections import Counter
from datetime import datetime
from typing import Any

from .core.cron import preview
from .core.dependencies import NEVER_CRON, graph_view
from .core.dependencies import downstreams as dependency_downstreams
from .core.models import AppConfig, ExecutionType, JobConfig, JobType
from .core.names import require_name, shown
from .core.pojo3 import from_pojo, is_pojo
from .core.ports import FailoverEntry, RunningEntry, Stores
from .core.schemas import (
    app_to_wire,
    job_to_wire,
    load_app,
    load_app_changes,
    load_job,
    load_job_changes,
    sharding_item_parameter_errors,
)
from .core.triggers import TriggeredRun, load_trigger
from .exceptions import Conflict, InconsistentChange, InvalidConfig, NotFound, UnknownReference

LEGACY_BOOTSTRAP_SCRIPT = "bin/start.sh"


def _require_object(body: Any, what: str) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise InvalidConfig(f"the {what} must be a JSON object", {"_schema": ["not a JSON object"]})
    return body


def _require_name(body: dict[str, Any], key: str) -> str:
    name = body.get(key)
    if name is None or name == "":
        raise InvalidConfig.field(key, "Missing data for required field.")
    return require_name(name, key)


def _consistent(load: Any, merged: dict[str, Any]) -> Any:
    """The record after a partial update; a rule it breaks only with what is stored is a 409."""
    try:
        return load(merged)
    except InvalidConfig as exc:
        raise InconsistentChange(f"{exc.message} (with the fields already stored)", exc.errors) from None


def _refuse_losing_the_only_trigger(current: JobConfig, updated: JobConfig, given: dict[str, Any]) -> None:
    """A job registered with ``dependsOn`` and no cron is stored with the cron that never fires:
    an update that drops its upstreams without giving a cron would leave it never running, silently.
    A 409 naming ``dependsOn`` instead; giving a cron in the same body (even that one) is accepted."""
    drops = bool(current.policy.depends_on) and not updated.policy.depends_on
    if drops and "cron" not in given and updated.cron == NEVER_CRON:
        raise InconsistentChange.field(
            "dependsOn",
            f"{shown(current.job_name)} has no cron of its own (stored as {NEVER_CRON!r}): without "
            "dependsOn it would never run; give a cron in the same update",
        )


def _app(name: object) -> str:
    return require_name(name, "appName")


def _job(name: object) -> str:
    return require_name(name, "jobName")


def _implicit_app_name(body: dict[str, Any]) -> str | None:
    """A 2.0-style body names no app but carries ``appURL``: its app is named after the job.

    The original's guide still registers jobs this way; the app is made from the job's
    ``appURL`` / ``bootstrapScript`` unless an app of that name exists.
    """
    name = body.get("jobName")
    if body.get("appName") or not body.get("appURL") or not isinstance(name, str) or not name:
        return None
    return name


def _matching(names: list[str], search: str, descending: bool) -> list[str]:
    needle = search.casefold()
    found = (name for name in names if needle in name.casefold())
    return sorted(found, key=lambda name: (name.casefold(), name), reverse=descending)


class Lifecycle:
    def __init__(self, registry: Stores):
        self.registry = registry
        self.config = registry.config
        self.disable = registry.disable

    # ----- apps
    def register_app(self, body: Any) -> AppConfig:
        app = load_app(body)
        self.config.add_app(app)
        return app

    def update_app(self, body: Any) -> AppConfig:
        """Only the fields given change (``{"appName":"foo_app","appCacheEnable":true}``)."""
        changes = _require_object(body, "app")
        name = _require_name(changes, "appName")
        load_app_changes(changes)  # each given field on its own: 400 naming it
        return self.config.update_app(
            name, lambda current: _consistent(load_app, {**app_to_wire(current), **changes})
        )

    def get_app(self, app_name: str) -> AppConfig:
        app = self.config.get_app(_app(app_name))
        if app is None:
            raise NotFound(f"app {shown(app_name)} not found")
        return app

    def list_apps(self) -> list[AppConfig]:
        return self.config.list_apps()

    def find_apps(
        self, search: str, offset: int, limit: int, descending: bool = False
    ) -> tuple[int, list[AppConfig]]:
        """Apps whose name contains ``search`` (any case), sorted by name: the total and one page."""
        names = _matching(self.config.app_names(), search, descending)
        found = (self.config.get_app(name) for name in names[offset : offset + limit])
        return len(names), [app for app in found if app is not None]

    def delete_app(self, app_name: str) -> list[str]:
        """Deregisters the app's jobs with it (the original cascades rather than refusing)."""
        return self.config.remove_app(_app(app_name))

    def is_app_disabled(self, app_name: str) -> bool:
        self.get_app(app_name)
        return self.disable.is_app_disabled(app_name)

    def disable_app(self, app_name: str) -> None:
        self.disable.disable_app(_app(app_name))  # NotFound unless the app exists

    def enable_app(self, app_name: str) -> None:
        self.get_app(app_name)
        self.disable.enable_app(app_name)

    # ----- jobs
    def register_job(self, body: Any) -> JobConfig:
        """A 2.x body, or a 3.x one (``core.pojo3``: ``disabled`` registers it disabled in the same
        transaction, ``overwrite`` makes an existing job's register an update)."""
        body = _require_object(body, "job")
        disabled = False
        if is_pojo(body):
            mapped = from_pojo(body)
            body, disabled = mapped.body, mapped.disabled
            name = body.get("jobName")
            if mapped.overwrite and isinstance(name, str) and self.config.get_job(_job(name)) is not None:
                return self.update_job({**body, "disabled": disabled})
        implicit_app = _implicit_app_name(body)
        if implicit_app is not None:
            body = {**body, "appName": implicit_app}
        job = load_job(body)
        if implicit_app is not None and self.config.get_app(implicit_app) is None:
            app = load_app(
                {
                    "appName": implicit_app,
                    "appURL": body["appURL"],
                    "bootstrapScript": body.get("bootstrapScript") or LEGACY_BOOTSTRAP_SCRIPT,
                }
            )
            self.config.add_app_and_job(app, job)  # both or neither
            return job
        try:
            self.config.add_job(job, disabled)
        except NotFound:
            raise UnknownReference.field(
                "appName", f"app {shown(job.app_name)} does not exist: publish it first"
            ) from None
        return job

    def update_job(self, body: Any) -> JobConfig:
        """Only the fields given change; the result is validated as a registration is. A 3.x body
        keeps the job's class unless it names one; its ``disabled`` sets the job's disable mark."""
        changes = _require_object(body, "job")
        name = _require_name(changes, "jobName")
        disabled: list[bool | None] = [None]  # what the 3.x body's ``disabled`` asks, once mapped

        def change(current: JobConfig) -> JobConfig:
            given = changes
            if is_pojo(changes):
                props = changes.get("props") if isinstance(changes.get("props"), dict) else {}
                names_kind = "jobClass" in changes or "jobType" in changes or bool(props)
                kept = (
                    {} if names_kind else {"jobType": current.job_type.value, "jobClass": current.job_class}
                )
                mapped = from_pojo({**kept, **changes})
                given = mapped.body
                disabled[0] = mapped.disabled if "disabled" in body else None
            load_job_changes(given)  # the given fields on their own: 400 naming them
            updated = _consistent(load_job, {**job_to_wire(current), **given})
            _refuse_losing_the_only_trigger(current, updated, given)
            return updated

        job = self.config.update_job(name, change)  # applied to the job as read, written atomically
        if disabled[0] is not None:
            (self.disable.disable_job if disabled[0] else self.disable.enable_job)(job.job_name)
        return job

    def get_job(self, job_name: str) -> JobConfig:
        job = self.config.get_job(_job(job_name))
        if job is None:
            raise NotFound(f"job {shown(job_name)} not found")
        return job

    def list_jobs(self) -> list[JobConfig]:
        return self.config.list_jobs()

    def find_jobs(
        self, search: str, offset: int, limit: int, descending: bool = False
    ) -> tuple[int, list[JobConfig]]:
        """As ``find_apps``; only the page's configs are read (one pipelined round trip)."""
        names = _matching(self.config.job_names(), search, descending)
        page = names[offset : offset + limit]
        found = self.config.get_jobs_versioned(page)
        jobs = [entry[0] for entry in (found.get(name) for name in page) if entry and entry[0]]
        return len(names), jobs

    def deregister_job(self, job_name: str, cascade: bool = False) -> bool:
        """Idempotent: deregistering an unknown job succeeds and changes nothing. A job others depend
        on is a ``Conflict`` naming them, unless ``cascade`` (they are deregistered with it)."""
        return bool(self.deregister_jobs(job_name, cascade))

    def deregister_jobs(self, job_name: str, cascade: bool = False) -> list[str]:
        """As ``deregister_job``; the names of the jobs deregistered."""
        return self.config.remove_jobs(_job(job_name), cascade)

    def job_dependencies(self, job_name: str) -> dict[str, Any]:
        """The job's upstreams and downstreams with the state of each edge (``registry.dependencies``)."""
        job = self.get_job(job_name)
        jobs = self.list_jobs()
        graph = {j.job_name: j.policy.depends_on for j in jobs}
        record = self.registry.dependencies.edges_of(job_name)
        edges = record.get("edges", {})
        upstreams = [
            {
                "jobName": up,
                "state": (edges.get(up) or {}).get("state", "WAITING"),
                "at": (edges.get(up) or {}).get("at"),
            }
            for up in job.policy.depends_on
        ]
        downstreams = []
        for name in dependency_downstreams(graph, job_name):
            theirs = self.registry.dependencies.edges_of(name).get("edges", {}).get(job_name) or {}
            downstreams.append(
                {"jobName": name, "state": theirs.get("state", "WAITING"), "at": theirs.get("at")}
            )
        return {
            "jobName": job_name,
            "dependencyPolicy": job.policy.dependency_policy.value,
            "upstreams": upstreams,
            "downstreams": downstreams,
            "queuedRuns": int(record.get("queued", 0)),
            "lastQueuedAt": record.get("queuedAt"),
        }

    def dependency_graph(self) -> dict[str, Any]:
        """Every job as a node, every ``dependsOn`` entry as an edge (upstream → downstream)."""
        jobs = self.list_jobs()
        view = graph_view({j.job_name: j.policy.depends_on for j in jobs})
        policies = {j.job_name: j.policy.dependency_policy.value for j in jobs}
        for node in view["nodes"]:
            node["dependencyPolicy"] = policies[node["id"]]
        return view

    def is_job_disabled(self, job_name: str) -> bool:
        job = self.get_job(job_name)
        return self.disable.is_job_disabled(job_name) or self.disable.is_app_disabled(job.app_name)

    def disabled_job_names(self) -> list[str]:
        """Jobs with their own disable mark (``is_job_disabled`` also says true for a disabled app)."""
        return sorted(self.disable.disabled_jobs())  # deregistering a job removes its mark

    def disable_job(self, job_name: str) -> None:
        self.disable.disable_job(_job(job_name))  # NotFound unless the job exists

    def enable_job(self, job_name: str) -> None:
        self.get_job(job_name)
        self.disable.enable_job(job_name)

    def trigger(self, job_name: str) -> int:
        """Queue one run now, by the misfire rule: misfire=true adds a run, false keeps at most one."""
        return self.registry.ready.trigger(_job(job_name), _misfire_of_triggerable)

    def trigger_run(self, body: dict[str, Any]) -> dict[str, Any]:
        """Queue one run with its own parameters (``core.triggers``); the answer names the run."""
        data = load_trigger(body)
        job = self.get_job(_job(data["jobName"]))
        if job.execution_type is ExecutionType.DAEMON:
            raise Conflict(f"daemon job '{job.job_name}' cannot be triggered: it runs its own cron")
        parameters = data["shardingItemParameters"]
        if parameters is not None and parameters.strip():
            problems = sharding_item_parameter_errors(parameters, job.sharding_total_count)
            if problems:
                raise InvalidConfig(
                    f"shardingItemParameters: {'; '.join(problems)}", {"shardingItemParameters": problems}
                )
        run = TriggeredRun(job.job_name, str(uuid.uuid4()), time.time(), data["jobParameter"], parameters)
        run_id, new = self.registry.triggered.add(run, data["idempotencyKey"])
        return {"jobName": job.job_name, "runId": run_id, "queued": new}

    # ----- the prototype's API: one job = one app running one script
    def legacy_register(self, body: Any) -> JobConfig:
        body = _require_object(body, "job")
        name = _require_name(body, "jobName")
        given = (
            "cron",
            "shardingTotalCount",
            "cpuCount",
            "memoryMB",
            "failover",
            "misfire",
            "dockerImageName",
        )
        job_body = {
            "jobName": name,
            "appName": name,
            **{key: body[key] for key in given if key in body},  # as sent: a null is refused, not dropped
            "jobType": JobType.SCRIPT.value,
            "jobExecutionType": ExecutionType.TRANSIENT.value,
            "scriptCommandLine": LEGACY_BOOTSTRAP_SCRIPT,
        }
        app_body = {"appName": name, "bootstrapScript": LEGACY_BOOTSTRAP_SCRIPT}
        if "appURL" in body:
            app_body["appURL"] = body["appURL"]
        errors: dict[str, list[str]] = {}
        app: AppConfig | None = None
        job: JobConfig | None = None
        try:
            app = load_app(app_body)
        except InvalidConfig as exc:
            errors.update(exc.errors)
        try:
            job = load_job(job_body)
        except InvalidConfig as exc:
            errors.update(exc.errors)
        if errors or app is None or job is None:
            summary = "; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items())
            raise InvalidConfig(f"invalid job configuration: {summary}", errors)
        self.config.add_app_and_job(app, job)
        return job

    def legacy_unregister(self, job_name: str) -> None:
        self.config.remove_app(require_name(job_name, "jobName"))

    def next_fire_times(
        self, job_name: str, default_time_zone: str, after: datetime, count: int
    ) -> dict[str, Any]:
        job = self.get_job(job_name)
        zone = job.time_zone or default_time_zone
        return {"jobName": job_name, **preview_fire_times(job.cron, zone, after, count)}

    # ----- state and statistics views
    def ready_tasks(self) -> list[dict[str, str]]:
        return [
            {"jobName": name, "times": str(count)}
            for name, count in sorted(self.registry.ready.counts().items())
        ]

    def failover_tasks(self) -> list[FailoverEntry]:
        return self.registry.failover.entries()

    def running_tasks(self) -> list[RunningEntry]:
        return self.registry.running.entries()

    def job_type_statistics(self) -> dict[str, int]:
        counts = Counter(job.job_type for job in self.list_jobs())
        return {
            "scriptJobCount": counts[JobType.SCRIPT],
            "simpleJobCount": counts[JobType.SIMPLE],
            "dataflowJobCount": counts[JobType.DATAFLOW],
        }

    def execution_type_statistics(self) -> dict[str, int]:
        counts = Counter(job.execution_type for job in self.list_jobs())
        return {
            "transientJobCount": counts[ExecutionType.TRANSIENT],
            "daemonJobCount": counts[ExecutionType.DAEMON],
        }


def _misfire_of_triggerable(job: JobConfig) -> bool:
    if job.execution_type is ExecutionType.DAEMON:
        raise Conflict(f"daemon job '{job.job_name}' cannot be triggered: it runs its own cron")
    return job.misfire


def parse_count(text: str | int | None, default: int = 10) -> int:
    if text is None or text == "":
        return default
    if isinstance(text, int) and not isinstance(text, bool):
        return text
    if isinstance(text, str) and text.strip().isascii() and text.strip().isdigit() and len(text.strip()) <= 9:
        return int(text.strip())
    raise InvalidConfig.field("count", f"must be a whole number, got {shown(text)}")


def parse_after(text: str | None, now: datetime) -> datetime:
    """ISO-8601; a time without offset is a wall time in the schedule's zone; default ``now``."""
    if not text:
        return now
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise InvalidConfig.field("after", f"must be an ISO-8601 date-time, got {shown(text)}") from None


def preview_fire_times(expression: str | None, time_zone: str, after: datetime, count: int) -> dict[str, Any]:
    """The next ``count`` fires of an expression: ``{"cron", "timeZone", "next": [ISO-8601…]}``."""
    if not expression:
        raise InvalidConfig.field("cron", "Missing data for required field.")
    return {"cron": expression, "timeZone": time_zone, "next": preview(expression, time_zone, after, count)}
