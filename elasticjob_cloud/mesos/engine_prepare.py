"""What the engine does ahead of (re)loaded jobs' first launches, off the path of their next fire:
their TaskInfo parts and, once the running state is loaded, their ``/state/running/{job}`` node (a
first launch would otherwise create it in its own transaction: one op more per run).

A full load's TaskInfo parts are prepared ``PREPARE_AT_ONCE`` jobs a loop step once launching can
start, not before a new leader's first launch. Functions of the engine, on its one thread.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from ..exceptions import RegistryUnavailable

if TYPE_CHECKING:
    from .engine import Engine

log = logging.getLogger("elasticjob_cloud.mesos.engine")

# TaskInfo parts prepared at once for up to this many (re)loaded jobs; a full load's are prepared
# this many a loop step once launching can start (10,000 took ~0.5-1.5 s, before a new leader's
# first launch; a launch of a job not prepared yet prepares its own).
PREPARE_AT_ONCE = 500


def prepare(engine: Engine, names: set[str]) -> None:
    missing = []
    later = len(names) > PREPARE_AT_ONCE
    for name in names:
        job = engine.catalog.jobs.get(name)
        app = engine.catalog.apps.get(job.app_name) if job is not None else None
        if job is not None and app is not None:
            if later:
                engine.unprepared.add(name)
            else:
                engine.task_infos.warm(job, app)
        if job is not None and engine.loaded and engine.running.needs_job_node(name):
            missing.append(name)
    if not missing:
        return
    try:
        known = engine.registry.ledger.prepare_jobs(missing)
    except RegistryUnavailable as exc:  # not needed for launching: a first launch creates it
        log.info("running nodes of %d jobs not created ahead: %s", len(missing), exc)
        return
    engine.running.job_nodes.update(name for name, exists in known.items() if exists)


def due(engine: Engine) -> bool:
    """Whether a slice of ``unprepared`` is due: once launching can start, between rounds."""
    return bool(engine.unprepared) and engine.loaded and engine.awaiting is None and not engine.dirty


def prepare_slice(engine: Engine) -> None:
    for _ in range(min(PREPARE_AT_ONCE, len(engine.unprepared))):
        job = engine.catalog.jobs.get(engine.unprepared.pop())
        app = engine.catalog.apps.get(job.app_name) if job is not None else None
        if job is not None and app is not None:
            engine.task_infos.warm(job, app)
