"""Apps and jobs (``/config/app``, ``/config/job``) and the cascades that remove a job's state.

Every change is a plan over one read, committed with guards from that read (``registry.atomic``):

* adding, updating or moving a job rewrites its app node with the data and version read (a "touch"):
  an app deletion planned before that cannot commit any more, and one planned after sees the job,
  so a job never outlives its app;
* a deregistration deletes whatever state of the job exists at commit time, whoever consumed or
  created some of it in between (the engine taking a ready run, the producer writing a fire), and
  then sweeps what a writer guarded by the old config created in the window, with a guard that the
  job is still absent (a job registered again keeps its new state).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from ..core import paths
from ..core.models import AppConfig, JobConfig
from ..core.schemas import app_to_wire, job_to_wire, load_stored_app, load_stored_job
from ..exceptions import AlreadyExists, InvalidConfig, NotFound, UnknownReference
from . import dependencies
from .atomic import absent, transact
from .tree import Create, Delete, Op, SetData, Tree

log = logging.getLogger(__name__)


def encode_json(wire: dict[str, Any]) -> bytes:
    return json.dumps(wire, separators=(",", ":"), ensure_ascii=False).encode()


def decode(data: bytes, path: str, loader: Any) -> Any:
    try:
        return loader(json.loads(data.decode()))
    except (ValueError, InvalidConfig) as exc:
        log.warning("ignoring unreadable configuration at %s: %s", path, exc)
        return None


def job_state_ops(tree: Tree, job_names: list[str]) -> list[Op]:
    """Deletes of every state node of these jobs that exists now: disable mark, ready counter and its
    record of instants, last fire, failover entries and back-off streaks, triggered runs and their idempotency keys, and an
    empty ``/state/running/{job}`` (tasks still running are the engine's: it kills them, then
    forgets the node; a task recorded meanwhile fails the delete)."""
    if not job_names:
        return []
    singles = [
        p
        for name in job_names
        for p in (
            paths.disabled_job(name),
            paths.ready(name),
            paths.ready_queued_at(name),
            paths.last_fire(name),
        )
    ]
    ops: list[Op] = [
        Delete(path) for path, found in zip(singles, tree.get_many(singles), strict=True) if found
    ]
    two_level = [  # {root}/{job}/{entry} subtrees of a job
        (set(tree.children(root)), job_dir_of)
        for root, job_dir_of in (
            (paths.FAILOVER, paths.failover_job),
            (paths.FAILOVER_BACKOFF, paths.failover_backoff_job),
            (paths.TRIGGERED, paths.triggered_job),
            (paths.TRIGGER_KEYS, paths.trigger_keys_job),
        )
    ]
    running = set(tree.children(paths.RUNNING))
    for name in job_names:
        for listed, job_dir_of in two_level:
            if name in listed:
                job_dir = job_dir_of(name)
                ops += [Delete(f"{job_dir}/{child}") for child in tree.children(job_dir)]
                ops.append(Delete(job_dir))
        if name in running and not tree.children(paths.running_job(name)):
            ops.append(Delete(paths.running_job(name)))
    return ops + dependencies.state_ops(tree, job_names)


class ConfigStore:
    def __init__(self, tree: Tree):
        self.tree = tree
        for root in (paths.CONFIG_APP, paths.CONFIG_JOB):
            tree.ensure(root)

    # ------------------------------------------------------------------ apps
    def get_app(self, app_name: str) -> AppConfig | None:
        found = self.tree.get(paths.app(app_name))
        return decode(found[0], paths.app(app_name), load_stored_app) if found else None

    def list_apps(self) -> list[AppConfig]:
        apps = (self.get_app(name) for name in self.tree.children(paths.CONFIG_APP))
        return [app for app in apps if app is not None]

    def app_names(self) -> list[str]:
        return self.tree.children(paths.CONFIG_APP)

    def add_app(self, app: AppConfig) -> None:
        try:
            self.tree.commit([Create(paths.app(app.app_name), encode_json(app_to_wire(app)))])
        except AlreadyExists:
            raise AlreadyExists(f"app '{app.app_name}' already exists") from None

    def replace_app(self, app: AppConfig) -> None:
        self.update_app(app.app_name, lambda _: app)

    def update_app(self, app_name: str, change: Callable[[AppConfig], AppConfig]) -> AppConfig:
        """``change`` (pure; may raise ``InvalidConfig``) applied to the app as read, written only if
        the app did not change in between (else read and applied again): no update is lost."""

        def plan() -> tuple[list[Op], AppConfig]:
            path = paths.app(app_name)
            found = self.tree.get(path)
            current = decode(found[0], path, load_stored_app) if found else None
            if found is None or current is None:
                raise NotFound(f"app '{app_name}' not found")
            app = change(current)
            return [SetData(path, encode_json(app_to_wire(app)), found[1])], app

        return transact(self.tree, plan, f"updating app '{app_name}'")

    def remove_app(self, app_name: str) -> list[str]:
        """The app, its disable mark and every job of it with their state, in one transaction guarded
        by the app's and each job's version; returns the names of the jobs removed."""

        def plan() -> tuple[list[Op], list[str]]:
            app = self.tree.get(paths.app(app_name))
            found = self.get_jobs_versioned(self.job_names())
            jobs = {
                name: entry[1]
                for name, entry in found.items()
                if entry is not None and entry[0] is not None and entry[0].app_name == app_name
            }
            dependencies.refuse_if_depended_on(sorted(jobs), found)
            ops = job_state_ops(self.tree, sorted(jobs))
            ops += [Delete(paths.job(name), version) for name, version in sorted(jobs.items())]
            if self.tree.get(paths.disabled_app(app_name)) is not None:
                ops.append(Delete(paths.disabled_app(app_name)))
            if app is not None:
                ops.append(Delete(paths.app(app_name), app[1]))
            return ops, sorted(jobs)

        removed = transact(self.tree, plan, f"deleting app '{app_name}'")
        self._sweep(removed, app_name)
        return removed

    # ------------------------------------------------------------------ jobs
    def get_job(self, job_name: str) -> JobConfig | None:
        found = self.tree.get(paths.job(job_name))
        return decode(found[0], paths.job(job_name), load_stored_job) if found else None

    def job_names(self) -> list[str]:
        return self.tree.children(paths.CONFIG_JOB)

    def get_jobs_versioned(self, job_names: list[str]) -> dict[str, tuple[JobConfig | None, int] | None]:
        """Each job's config (None when unreadable) with its node version; None when missing.

        One pipelined round trip for all names: the producer loads thousands of jobs this way.
        """
        found = self.tree.get_many([paths.job(name) for name in job_names])
        return {
            name: None if entry is None else (decode(entry[0], paths.job(name), load_stored_job), entry[1])
            for name, entry in zip(job_names, found, strict=True)
        }

    def list_jobs(self) -> list[JobConfig]:
        found = self.get_jobs_versioned(self.job_names())
        return [entry[0] for entry in found.values() if entry is not None and entry[0] is not None]

    def add_job(self, job: JobConfig, disabled: bool = False) -> None:
        """Created with a touch of its app (see the module docstring): the app cannot vanish under it.
        A job added ``disabled`` gets its disable mark in the same transaction (it never runs enabled)."""

        def plan() -> tuple[list[Op], None]:
            app = self._app_touch(job.app_name, f"app '{job.app_name}' not found: register the app first")
            if self.tree.get(paths.job(job.job_name)) is not None:
                raise AlreadyExists(f"job '{job.job_name}' already exists")
            ops = [app, Create(paths.job(job.job_name), encode_json(job_to_wire(job)))]
            if disabled and self.tree.get(paths.disabled_job(job.job_name)) is None:
                ops.append(Create(paths.disabled_job(job.job_name), job.job_name.encode()))
            return ops + self._dependency_ops(job), None

        transact(self.tree, plan, f"registering job '{job.job_name}'")

    def replace_job(self, job: JobConfig) -> None:
        self.update_job(job.job_name, lambda _: job)

    def update_job(self, job_name: str, change: Callable[[JobConfig], JobConfig]) -> JobConfig:
        """``change`` (pure; may raise ``InvalidConfig``) applied to the job as read, written only if
        neither the job nor its (new) app changed in between; an app that does not exist is the
        update's ``appName`` error."""

        def plan() -> tuple[list[Op], JobConfig]:
            path = paths.job(job_name)
            found = self.tree.get(path)
            current = decode(found[0], path, load_stored_job) if found else None
            if found is None or current is None:
                raise NotFound(f"job '{job_name}' not found")
            job = change(current)
            missing = f"app '{job.app_name}' does not exist"
            try:
                app = self._app_touch(job.app_name, missing)
            except NotFound:
                raise UnknownReference.field("appName", missing) from None
            write = SetData(path, encode_json(job_to_wire(job)), found[1])
            return [app, write, *self._dependency_ops(job, current)], job

        return transact(self.tree, plan, f"updating job '{job_name}'")

    def remove_job(self, job_name: str, cascade: bool = False) -> bool:
        """Idempotent; True when the job existed (``remove_jobs`` names what was removed)."""
        return bool(self.remove_jobs(job_name, cascade))

    def remove_jobs(self, job_name: str, cascade: bool = False) -> list[str]:
        """Idempotent; the names of the jobs removed (empty when the job did not exist). Its state
        goes with it, whatever moved meanwhile. A job others depend on is refused (``Conflict``
        listing them) unless ``cascade``: then they are removed too, with theirs, in the same
        transaction (each config at the version read: a dependent added meanwhile touched it)."""

        def plan() -> tuple[list[Op], list[str]]:
            found = self.tree.get(paths.job(job_name))
            # Every registration naming it as an upstream created its outcome folder (and touched
            # its config, so the versioned delete below fails if one came in since): without the
            # folder nothing depends on it, and the other jobs' configs need not be read.
            depended_on = found is not None and self.tree.exists(paths.run_outcomes_job(job_name))
            configs = self.get_jobs_versioned(self.job_names()) if depended_on else {}
            removing = [job_name]
            if cascade:
                removing += dependencies.dependents_to_refuse([job_name], configs)
            dependencies.refuse_if_depended_on(removing, configs)
            ops = job_state_ops(self.tree, removing)
            if found is not None:
                deletes: list[Op] = [Delete(paths.job(job_name), found[1])]
                for name in removing[1:]:
                    entry = configs.get(name)
                    if entry is not None:
                        deletes.append(Delete(paths.job(name), entry[1]))
                return [*ops, *deletes], removing
            return ([*absent(paths.job(job_name)), *ops] if ops else []), []

        removed = transact(self.tree, plan, f"deregistering job '{job_name}'")
        self._sweep(removed or [job_name])
        return removed

    def add_app_and_job(self, app: AppConfig, job: JobConfig) -> None:
        def plan() -> tuple[list[Op], None]:
            for path, what in ((paths.app(app.app_name), "app"), (paths.job(job.job_name), "job")):
                if self.tree.get(path) is not None:
                    raise AlreadyExists(f"{what} '{path.rsplit('/', 1)[1]}' already exists")
            return [
                Create(paths.app(app.app_name), encode_json(app_to_wire(app))),
                Create(paths.job(job.job_name), encode_json(job_to_wire(job))),
            ], None

        transact(self.tree, plan, f"registering app '{app.app_name}' with job '{job.job_name}'")

    # ------------------------------------------------------------------ helpers
    def _dependency_ops(self, job: JobConfig, current: JobConfig | None = None) -> list[Op]:
        """The dependency checks and writes of registering or updating ``job`` (``registry.dependencies``);
        nothing read for a job without ``dependsOn`` that had none."""
        had = current is not None and bool(current.policy.depends_on)
        if (
            current is not None
            and dependencies.upstream_rules_apply(job, current)
            and self.tree.exists(paths.run_outcomes_job(job.job_name))  # an upstream?
        ):
            configs = self.get_jobs_versioned(self.job_names())
            dependencies.refuse_upstream_change(job, current, configs)
        if not job.policy.depends_on and not had:
            return []
        configs = self.get_jobs_versioned(self.job_names()) if job.policy.depends_on else {}
        configs.pop(job.job_name, None)
        return dependencies.config_ops(self.tree, job, configs)

    def _app_touch(self, app_name: str, missing: str) -> Op:
        """The app node rewritten as read, at the version read (``NotFound(missing)`` when absent)."""
        found = self.tree.get(paths.app(app_name))
        if found is None:
            raise NotFound(missing)
        return SetData(paths.app(app_name), found[0], found[1])

    def _sweep(self, job_names: list[str], app_name: str | None = None) -> None:
        """After removing jobs (and an app): delete the state a writer guarded by their old nodes (a
        fire, a trigger, a failover entry, a disable mark) created between the plan's read and its
        commit. Such writers fail from now on, so one pass settles it; the absence guards keep a job
        or app registered again meanwhile, with its new state, untouched."""
        if not job_names and app_name is None:
            return

        def plan() -> tuple[list[Op], None]:
            found = self.tree.get_many([paths.job(name) for name in job_names])
            gone = [name for name, entry in zip(job_names, found, strict=True) if entry is None]
            state = job_state_ops(self.tree, gone)
            ops: list[Op] = (
                [*(op for name in gone for op in absent(paths.job(name))), *state] if state else []
            )
            if (
                app_name is not None
                and self.tree.get(paths.app(app_name)) is None
                and self.tree.get(paths.disabled_app(app_name)) is not None
            ):
                ops += [*absent(paths.app(app_name)), Delete(paths.disabled_app(app_name))]
            return ops, None

        transact(self.tree, plan, "clearing the state of removed jobs")
