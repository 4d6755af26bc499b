"""Export and import of apps, jobs and their disabled flags, through the REST API.

A snapshot is one JSON document: ``{"format": "elasticjob-cloud/1", "apps": [...], "jobs":
[...]}``, each app and job in its API form plus ``"disabled"`` (the app's or the job's own mark).
Import compares the snapshot with what the API holds and changes only what differs (creates,
updates of the fields that differ, disable/enable), so running it twice changes nothing the second
time; ``--dry-run`` prints the plan without changing anything. Nothing absent from the snapshot is
deleted. Apps go first (a job needs its app), then jobs; a new job disabled in the snapshot is
registered with ``"disabled": true`` (its disable mark in the same ZooKeeper transaction).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .bodies import BodyError
from .commands import path_part
from .http import Api, ApiError

FORMAT = "elasticjob-cloud/1"
EMPTY: tuple[Any, ...] = (None, "", False, {}, [])


@dataclass
class Change:
    action: str  # create, update, disable, enable
    kind: str  # app, job
    name: str
    body: dict[str, Any] | None = None
    detail: str = ""

    def describe(self) -> str:
        return f"{self.action} {self.kind} {self.name}" + (f": {self.detail}" if self.detail else "")


@dataclass
class Outcome:
    applied: list[Change] = field(default_factory=list)
    failed: list[tuple[Change, str]] = field(default_factory=list)


def export(api: Api) -> dict[str, Any]:
    apps = sorted(api.get("/api/app/list"), key=lambda app: app["appName"])
    jobs = sorted(api.get("/api/job/jobs"), key=lambda job: job["jobName"])
    disabled_jobs = set(api.get("/api/job/disabled"))
    return {
        "format": FORMAT,
        "apps": [{**app, "disabled": _app_disabled(api, app["appName"])} for app in apps],
        "jobs": [{**job, "disabled": job["jobName"] in disabled_jobs} for job in jobs],
    }


def _app_disabled(api: Api, name: str) -> bool:
    return bool(api.get(f"/api/app/{path_part(name)}/disable"))


def _current(api: Api, path: str) -> dict[str, Any] | None:
    try:
        found: dict[str, Any] = api.get(path)
    except ApiError as exc:
        if exc.status == 404:
            return None
        raise
    return found


def _same(wanted: Any, current: Any) -> bool:
    if isinstance(wanted, bool) or isinstance(current, bool):
        return wanted is current or (wanted in EMPTY and current in EMPTY)
    if isinstance(wanted, int | float) and isinstance(current, int | float):
        return float(wanted) == float(current)
    if isinstance(wanted, dict) and isinstance(current, dict):
        return all(_same(v, current.get(k)) for k, v in wanted.items())
    return wanted == current or (wanted in EMPTY and current in EMPTY)


def _differences(wanted: dict[str, Any], current: dict[str, Any]) -> list[str]:
    return [
        f"{key} {current.get(key)!r} → {value!r}"
        for key, value in wanted.items()
        if not _same(value, current.get(key))
    ]


def check_snapshot(snapshot: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    if not isinstance(snapshot, dict) or not isinstance(snapshot.get("apps", []), list):
        raise BodyError('a snapshot is an object {"format", "apps": [...], "jobs": [...]}')
    if snapshot.get("format", FORMAT) != FORMAT:
        raise BodyError(f"unknown snapshot format {snapshot.get('format')!r} (expected {FORMAT})")
    apps, jobs = snapshot.get("apps", []), snapshot.get("jobs", [])
    for what, items, key in (("app", apps, "appName"), ("job", jobs, "jobName")):
        if not isinstance(items, list) or not all(isinstance(i, dict) and i.get(key) for i in items):
            raise BodyError(f"every {what} of the snapshot must be an object with its {key}")
    return apps, jobs


def plan(api: Api, snapshot: Any) -> list[Change]:
    apps, jobs = check_snapshot(snapshot)
    changes: list[Change] = []
    for app in apps:
        name, body, want_off = app["appName"], _body(app), bool(app.get("disabled", False))
        current = _current(api, f"/api/app/{path_part(name)}")
        if current is None:
            changes.append(Change("create", "app", name, body))
            is_off = False
        else:
            if diff := _differences(body, current):
                changes.append(Change("update", "app", name, body, ", ".join(diff)))
            is_off = _app_disabled(api, name)
        if want_off != is_off:
            changes.append(Change("disable" if want_off else "enable", "app", name))
    disabled_jobs = set(api.get("/api/job/disabled")) if jobs else set()
    for job in _upstreams_first(jobs):
        name, body, want_off = job["jobName"], _body(job), bool(job.get("disabled", False))
        current = _current(api, f"/api/job/jobs/{path_part(name)}")
        if current is None:  # registered disabled in the same write: it never runs meanwhile
            off = ("registered disabled", {**body, "disabled": True}) if want_off else ("", body)
            changes.append(Change("create", "job", name, off[1], off[0]))
            continue
        if diff := _differences(body, current):
            changes.append(Change("update", "job", name, body, ", ".join(diff)))
        if want_off != (name in disabled_jobs):
            changes.append(Change("disable" if want_off else "enable", "job", name))
    return changes


def _upstreams_first(jobs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The snapshot's jobs, each after the jobs it ``dependsOn`` (a registration names only jobs
    that exist), by name otherwise."""
    by_name = {str(job["jobName"]): job for job in jobs}
    order: list[dict[str, Any]] = []
    placed: set[str] = set()

    def place(name: str, visiting: frozenset[str]) -> None:
        if name in placed or name in visiting or name not in by_name:
            return  # a cycle or an upstream outside the snapshot: the API says what is wrong
        ups = by_name[name].get("dependsOn")
        for up in sorted(u for u in ups if isinstance(u, str)) if isinstance(ups, list) else ():
            place(up, visiting | {name})
        placed.add(name)
        order.append(by_name[name])

    for name in sorted(by_name):
        place(name, frozenset())
    return order


def _body(item: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in item.items() if key != "disabled"}


def apply(api: Api, changes: list[Change], report: Callable[[Change, str | None], None]) -> Outcome:
    """Each change in order; one that fails is reported and the rest still go (a job whose app
    could not be created then fails with the API's own message)."""
    outcome = Outcome()
    for change in changes:
        try:
            _send(api, change)
        except ApiError as exc:
            outcome.failed.append((change, exc.describe()))
            report(change, exc.describe())
        else:
            outcome.applied.append(change)
            report(change, None)
    return outcome


def _send(api: Api, change: Change) -> None:
    name = path_part(change.name)
    if change.kind == "app":
        if change.action in ("create", "update"):
            api.request("POST" if change.action == "create" else "PUT", "/api/app", change.body)
        else:
            api.request("POST", f"/api/app/{name}/{change.action}")
    elif change.action in ("create", "update"):
        path = "/api/job/register" if change.action == "create" else "/api/job/update"
        api.request("POST" if change.action == "create" else "PUT", path, change.body)
    else:
        api.request("POST", f"/api/job/{name}/{change.action}")
