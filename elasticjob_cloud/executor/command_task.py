"""A TRANSIENT SCRIPT task under the Mesos command executor: the same run as under the executor.

Such a task needs no app process between runs, so it is a ``TaskInfo.command`` task, as in the
original. Its command is the executor program itself, which finds its task in the environment
(``ELASTICJOB_CLOUD_TASK_DATA`` and ``ELASTICJOB_CLOUD_APP_DATA``, the ``data`` the framework
executor would get) and runs it through the very code a framework executor runs
(:class:`~elasticjob_cloud.executor.task.TaskRun`): the app is downloaded and unpacked with the same
limits and safety checks (not by the Mesos fetcher), ``scriptCommandLine`` is split without a shell
and a bare name in the app directory runs as ``./name``, the shard JSON is one last argument, and
the job has the same environment. The outcome is the exit status, which is what the command
executor reports: 0 → TASK_FINISHED, anything else → TASK_FAILED (the reason is the last line of
this process's stderr, in the task's sandbox).

The process ends its job when it is told to (SIGTERM, from the command executor's kill) and when
whoever started it goes away (the agent, or the command executor): an agent killed with SIGKILL
must not leave its jobs running.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from collections.abc import Mapping
from pathlib import Path

from elasticjob_cloud.core.taskdata import (
    ENV_APP_DATA,
    ENV_TASK_DATA,
    decode_app_data,
    decode_task_data,
    env_joined,
)
from elasticjob_cloud.exceptions import InvalidConfig
from elasticjob_cloud.executor.archive import Limits
from elasticjob_cloud.executor.fetch import AppCache, default_cache_dir
from elasticjob_cloud.executor.task import TaskEnvironment, TaskRun
from elasticjob_cloud.executor.workspace import AppWorkspace

log = logging.getLogger(__name__)

PARENT_POLL = 0.2  # seconds between checks that the process that started this one is still there
EXIT_FAILED = 1
EXIT_KILLED = 143
EXIT_BAD_TASK = 2


def is_command_task(environ: Mapping[str, str]) -> bool:
    return bool(environ.get(ENV_TASK_DATA))


def run(environ: Mapping[str, str], sandbox: Path, kill_grace: float) -> int:
    """Run the task the environment names, in ``sandbox``; return the exit status."""
    raw_task = env_joined(environ, ENV_TASK_DATA)
    try:
        app = decode_app_data(env_joined(environ, ENV_APP_DATA))
        task_id = decode_task_data(raw_task).sharding_context.task_id
    except InvalidConfig as exc:
        sys.stderr.write(f"unusable task: {exc.message}\n")
        return EXIT_BAD_TASK
    limits = Limits.from_env(environ)
    workspace = AppWorkspace(app, sandbox, AppCache(default_cache_dir(sandbox, environ)), limits)
    job_env = {k: v for k, v in environ.items() if not k.startswith((ENV_TASK_DATA, ENV_APP_DATA))}
    env = TaskEnvironment(
        sandbox=sandbox, workspace=workspace, kill_grace=kill_grace, base_env=job_env, die_with_parent=True
    )
    outcome: dict[str, str | None] = {}

    def report(state: str, message: str | None) -> None:
        if state != "TASK_RUNNING":
            outcome["state"], outcome["message"] = state, message

    task = TaskRun(task_id, raw_task, env, report)

    def killed(signum: int, frame: object) -> None:  # TaskRun.kill takes locks: not in the handler
        threading.Thread(target=task.kill, name="kill", daemon=True).start()

    signal.signal(signal.SIGTERM, killed)
    _watch_parent(task)
    task.run()  # on this thread: its job process dies with this thread (see child.py)
    state, message = outcome.get("state"), outcome.get("message")
    log.info("task %s: %s %s", task_id, state, message or "")
    if state == "TASK_FINISHED":
        return 0
    if message:
        sys.stderr.write(message + "\n")
    return EXIT_KILLED if state == "TASK_KILLED" else EXIT_FAILED


def _watch_parent(task: TaskRun) -> None:
    """Kill the job at once when the process that started this one is gone (re-parented)."""
    parent = os.getppid()

    def watch() -> None:
        while not task.stopped.wait(PARENT_POLL):
            if os.getppid() != parent:
                log.warning("the agent (pid %s) is gone: killing the job", parent)
                task.kill(grace=0.0)
                return

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()
