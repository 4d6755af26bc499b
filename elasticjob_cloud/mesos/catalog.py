"""Jobs, apps and disable marks as the launcher sees them: loaded once, then kept fresh by watches.

Reading every config from ZooKeeper in every launch round would cost a round trip per job; instead
watch callbacks (any thread) only record which names changed and wake the engine, and the engine's
thread re-reads exactly those names at the start of its next round (``refresh``). What changed is
returned, so the engine can kill tasks of jobs that were deregistered or disabled, restart updated
DAEMON jobs, and stop the executors of a deleted app.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from ..core import paths
from ..core.models import AppConfig, JobConfig
from ..core.ports import Watches
from ..registry.stores import ConfigStore, DisableStore
from ..registry.warm import WarmJobs

log = logging.getLogger(__name__)

WATCHED = (paths.CONFIG_JOB, paths.CONFIG_APP, paths.DISABLE_JOB, paths.DISABLE_APP)


class CatalogStores(Protocol):
    config: ConfigStore
    disable: DisableStore

    @property
    def tree(self) -> Watches: ...  # only its watches: writes go through the stores and the ledger


@dataclass
class Changes:
    jobs: set[str] = field(default_factory=set)  # config or disable mark changed (or job gone)
    apps: set[str] = field(default_factory=set)
    removed_apps: set[str] = field(default_factory=set)
    full: bool = False

    def __bool__(self) -> bool:
        return bool(self.jobs or self.apps or self.removed_apps or self.full)


class Catalog:
    def __init__(self, registry: CatalogStores):
        self._registry = registry
        self.jobs: dict[str, JobConfig] = {}
        self.apps: dict[str, AppConfig] = {}
        self.disabled_jobs: set[str] = set()
        self.disabled_apps: set[str] = set()
        self.daemons: set[str] = set()  # names of DAEMON jobs (the launcher's desired state)
        self.downstreams: dict[str, set[str]] = {}  # job → the jobs that list it in dependsOn
        self._lock = threading.Lock()
        self._full = True
        self._dirty_jobs: set[str] = set()
        self._dirty_apps: set[str] = set()
        # Every job's decoded config, kept current while this instance stood by: the first full load
        # takes them from here instead of reading and decoding every config (issue #13).
        self.warm: WarmJobs | None = None
        self._loaded = False

    def watch(self, on_change: Callable[[], None]) -> list[Callable[[], None]]:
        def changed(path: str | None) -> None:
            try:
                self.mark(path)
                on_change()
            except Exception:
                log.exception("catalog: handling a change of %s failed", path)

        return [self._registry.tree.watch(root, changed) for root in WATCHED]

    def mark(self, path: str | None) -> None:
        with self._lock:
            if path is None:
                self._full = True
            elif (name := paths.changed_job(path)) is not None:
                self._dirty_jobs.add(name)
            elif (app := paths.changed_app(path)) is not None:
                self._dirty_apps.add(app)

    def refresh(self) -> Changes:
        """Re-read what changed since the last call (everything the first time). Engine thread only.

        Raises ``RegistryUnavailable``; the marks are then kept, so the next call retries them.
        """
        with self._lock:
            full, jobs, apps = self._full, set(self._dirty_jobs), set(self._dirty_apps)
            self._full, self._dirty_jobs, self._dirty_apps = False, set(), set()
        try:
            return self._reload_all() if full else self._reload(jobs, apps)
        except Exception:
            with self._lock:
                self._full |= full
                self._dirty_jobs |= jobs
                self._dirty_apps |= apps
            raise

    def _reload_all(self) -> Changes:
        before_apps = set(self.apps)
        if self.warm is not None and not self._loaded:  # subscribed first: see ``WarmJobs.snapshot``
            found: dict[str, tuple[JobConfig | None, int] | None] = dict(self.warm.snapshot())
        else:
            found = self._registry.config.get_jobs_versioned(self._registry.config.job_names())
        self._loaded = True
        self.jobs = {
            name: entry[0] for name, entry in found.items() if entry is not None and entry[0] is not None
        }
        self.apps = {app.app_name: app for app in self._registry.config.list_apps()}
        self.disabled_jobs = self._registry.disable.disabled_jobs()
        self.disabled_apps = self._registry.disable.disabled_apps()
        self.daemons = {name for name, job in self.jobs.items() if job.is_daemon}
        self.downstreams = {}
        for name, job in self.jobs.items():
            for up in job.policy.depends_on:
                self.downstreams.setdefault(up, set()).add(name)
        return Changes(jobs=set(self.jobs), removed_apps=before_apps - set(self.apps), full=True)

    def _reload(self, jobs: set[str], apps: set[str]) -> Changes:
        changes = Changes(jobs=set(jobs), apps=set(apps))
        if jobs:
            names = sorted(jobs)
            found = self._registry.config.get_jobs_versioned(names)
            disabled = self._registry.disable.disabled_jobs()  # one listing, not a read per name
            for name in names:
                entry = found.get(name)
                self._unlink(name)
                if entry is None or entry[0] is None:
                    self.jobs.pop(name, None)
                    self.daemons.discard(name)
                else:
                    self.jobs[name] = entry[0]
                    for up in entry[0].policy.depends_on:
                        self.downstreams.setdefault(up, set()).add(name)
                    if entry[0].is_daemon:
                        self.daemons.add(name)
                    else:
                        self.daemons.discard(name)
                if name in disabled:
                    self.disabled_jobs.add(name)
                else:
                    self.disabled_jobs.discard(name)
        disabled_apps = self._registry.disable.disabled_apps() if apps else set()
        for app_name in apps:
            before = (self.apps.get(app_name), app_name in self.disabled_apps)
            app = self._registry.config.get_app(app_name)
            if app is None:
                if self.apps.pop(app_name, None) is not None:
                    changes.removed_apps.add(app_name)
            else:
                self.apps[app_name] = app
            if app_name in disabled_apps:
                self.disabled_apps.add(app_name)
            else:
                self.disabled_apps.discard(app_name)
            if (self.apps.get(app_name), app_name in self.disabled_apps) == before:
                changes.apps.discard(app_name)  # rewritten as it was (a job of it was registered)
        if changes.apps:  # a walk over every job: only when an app changed
            changes.jobs |= {name for name, job in self.jobs.items() if job.app_name in changes.apps}
        return changes

    def _unlink(self, name: str) -> None:
        """Forget ``name``'s edges (its config changed or went)."""
        old = self.jobs.get(name)
        for up in old.policy.depends_on if old is not None else ():
            users = self.downstreams.get(up)
            if users is not None:
                users.discard(name)
                if not users:
                    del self.downstreams[up]

    def launchable(self, job_name: str) -> JobConfig | None:
        """The job's config when it exists, its app exists, and neither is disabled."""
        job = self.jobs.get(job_name)
        if job is None or job_name in self.disabled_jobs or job.app_name in self.disabled_apps:
            return None
        return job if job.app_name in self.apps else None

    def is_disabled(self, job_name: str) -> bool:
        job = self.jobs.get(job_name)
        return job_name in self.disabled_jobs or (job is not None and job.app_name in self.disabled_apps)
