"""Which executor an app's tasks use now, and retiring the executors an app update left behind.

An executor's ID carries the version of its ExecutorInfo (``core.models.executor_id``): a Mesos
master refuses a task whose ExecutorInfo differs from the running executor with the same ID
(``validation.cpp``, TASK_ERROR "ExecutorInfo is not compatible"), so after ``PUT /api/app`` new
tasks start a new executor beside the old one instead of failing. The old executor finishes the
tasks it runs and then gets the framework's STOP message (as for a deleted app): when its last task
of ours ends, or when an offer shows it idle. Executors of an app are found by the app name, the
ID's first part, as the original parses them (sandbox lookup, app deletion: both versions).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from ..core.models import DELIMITER, JobConfig
from ..core.taskdata import STOP_MESSAGE
from ..core.taskinfo import uses_command_executor

if TYPE_CHECKING:
    from .engine import Engine

log = logging.getLogger(__name__)


def app_of(executor_id: str) -> str | None:
    return executor_id.split(DELIMITER, 1)[0] if DELIMITER in executor_id else None


def current_id(engine: Engine, app_name: str, agent_id: str) -> str | None:
    """The ID new tasks of ``app_name`` on ``agent_id`` are launched with (None: no such app)."""
    app = engine.catalog.apps.get(app_name)
    return None if app is None else engine.task_infos.executor_id(app, agent_id)


def of_job(engine: Engine, job: JobConfig, agent_id: str) -> str | None:
    """The executor a task of ``job`` runs under (None under the Mesos command executor)."""
    return None if uses_command_executor(job) else current_id(engine, job.app_name, agent_id)


def current_app(engine: Engine, executor_id: str) -> str | None:
    """The app whose tasks would use this executor now; None for an old version's (its resources
    do not cover the new executor, which matching must then charge)."""
    parts = executor_id.split(DELIMITER)
    if len(parts) < 2 or current_id(engine, parts[0], parts[1]) != executor_id:
        return None
    return parts[0]


def _in_use(engine: Engine, executor_id: str, agent_id: str, app: str) -> bool:
    """Whether a task of ours may run on it (a task loaded after a leader change does not know its
    executor until its first update: counted as using any executor of its app there)."""
    return any(
        t.agent_id == agent_id
        and (t.executor_id == executor_id or (t.executor_id is None and t.app_name == app))
        for t in engine.running
    )


def retire_if_stale(engine: Engine, executor_id: str | None, agent_id: str) -> None:
    """STOP an old version's executor once no task of ours runs on it (once per executor)."""
    if not executor_id or engine.driver is None or executor_id in engine.retired_executors:
        return
    app = app_of(executor_id)
    current = current_id(engine, app, agent_id) if app else None
    if app is None or current is None or current == executor_id:
        return  # the app's current executor, or a deleted app (stopped on deletion)
    if engine.awaiting is not None or _in_use(engine, executor_id, agent_id, app):
        return
    log.info("app %s was updated: stopping its old executor %s on %s", app, executor_id, agent_id)
    if engine.driver.message(executor_id, agent_id, STOP_MESSAGE.encode()):
        engine.retired_executors.add(executor_id)
        engine.executors[app].discard((executor_id, agent_id))
