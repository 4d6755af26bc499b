"""Executor records on an agent, their sandboxes, environment and processes.

Executors are started the way a real agent starts them without isolation: the command through
``sh -c`` (or argv when ``shell`` is false) in the sandbox, in a **new session** (pymesos
executors ``killpg(0)`` on shutdown and would otherwise take the agent with them), with the
agent's environment plus the ``MESOS_*`` variables of ``executorEnvironment()`` and stdout/stderr
files in the sandbox. The session leader's PID is the process-group ID the agent kills on
shutdown, so nothing it started outlives the cluster.
"""

from __future__ import annotations

import functools
import logging
import os
import signal
import subprocess
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .streams import EventStream
from .timers import TimerHandle

logger = logging.getLogger(__name__)

# As a real agent (MAX_COMPLETED_TASKS_PER_EXECUTOR): only the latest finished tasks stay in an
# executor's /state. Keeping all of them grew without end under a long-lived custom executor, and
# a scale run's full garbage collections then took hundreds of milliseconds under the lock.
MAX_COMPLETED_TASKS_PER_EXECUTOR = 200


@dataclass
class AgentTask:
    """A task as the agent knows it, until its terminal update is acknowledged."""

    info: dict[str, Any]
    framework_id: str
    executor_id: str
    state: str = "TASK_STAGING"

    @property
    def task_id(self) -> str:
        return str(self.info["task_id"]["value"])


@dataclass
class Executor:
    kind: str  # "custom", "command" or "simulated"
    framework_id: str
    executor_id: str
    info: dict[str, Any]
    container_id: str
    directory: Path
    state: str = "launching"  # launching → running → terminating → terminated
    stream: EventStream | None = None
    queued: dict[str, dict[str, Any]] = field(default_factory=dict)
    launched: dict[str, dict[str, Any]] = field(default_factory=dict)
    completed: deque[dict[str, Any]] = field(
        default_factory=lambda: deque(maxlen=MAX_COMPLETED_TASKS_PER_EXECUTOR)
    )
    killing: set[str] = field(default_factory=set)
    pid: int | None = None
    proc: Any = None
    command_task: bool = False  # the built-in command executor (or its simulation): one task, then gone
    failure_reason: str | None = None
    shutdown_requested: bool = False
    timers: list[TimerHandle] = field(default_factory=list)
    runner: Any = None  # CommandRunner or SimulatedRunner

    def cancel_timers(self) -> None:
        for timer in self.timers:
            timer.cancel()
        self.timers.clear()


@functools.lru_cache(maxsize=256)
def _executors_dir(work_dir: Path, agent_id: str, framework_id: str) -> Path:
    return work_dir.joinpath("slaves", agent_id, "frameworks", framework_id, "executors")


def sandbox_path(
    work_dir: Path, agent_id: str, framework_id: str, executor_id: str, container_id: str
) -> Path:
    """``{work_dir}/slaves/{agent}/frameworks/{fw}/executors/{executor}/runs/{container}``.

    Pathlib parses every component it joins, and with a new executor per command task the chain
    of ``/`` was a third of an ACCEPT's cost in simulated mode: the per-framework part is made
    once, and only the last three components are joined per executor."""
    return _executors_dir(work_dir, agent_id, framework_id).joinpath(executor_id, "runs", container_id)


def make_sandbox(directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    latest = directory.parent / "latest"
    try:
        if latest.is_symlink() or latest.exists():
            latest.unlink()
        latest.symlink_to(directory.name)
    except OSError:
        logger.debug("could not update %s", latest)


def executor_environment(
    base: dict[str, str],
    *,
    agent_id: str,
    agent_endpoint: str,
    agent_pid: str,
    framework_id: str,
    executor_id: str,
    directory: Path,
    checkpoint: bool,
    grace_period: float,
    recovery_timeout: float = 900.0,
    command_env: Iterable[dict[str, Any]] = (),
    http_command_executor: bool = False,
) -> dict[str, str]:
    """The agent's own environment, then ``CommandInfo.environment``, then the ``MESOS_*`` set."""
    env = dict(base)
    for var in command_env:
        if var.get("type", "VALUE") == "VALUE" and "name" in var:
            env[str(var["name"])] = str(var.get("value", ""))
    env.update(
        {
            "MESOS_FRAMEWORK_ID": framework_id,
            "MESOS_EXECUTOR_ID": executor_id,
            "MESOS_DIRECTORY": str(directory),
            "MESOS_SANDBOX": str(directory),
            "MESOS_SLAVE_ID": agent_id,
            "MESOS_AGENT_ENDPOINT": agent_endpoint,
            "MESOS_SLAVE_PID": agent_pid,
            "MESOS_CHECKPOINT": "1" if checkpoint else "0",
            "MESOS_HTTP_COMMAND_EXECUTOR": "1" if http_command_executor else "0",
            "MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD": f"{grace_period}secs",
            "LIBPROCESS_PORT": "0",
        }
    )
    if checkpoint:
        env["MESOS_RECOVERY_TIMEOUT"] = f"{recovery_timeout:g}secs"
        env["MESOS_SUBSCRIPTION_BACKOFF_MAX"] = "2secs"
    return env


def spawn(command: dict[str, Any], directory: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    """Start a ``CommandInfo`` in its own session with sandbox stdout/stderr files."""
    value = command.get("value")
    if not value:
        raise ValueError("CommandInfo.value is required")
    if command.get("shell", True):
        argv, executable = ["/bin/sh", "-c", str(value)], "/bin/sh"
    else:  # value is the program, arguments the whole argv (argv[0] included), as execvp
        argv, executable = [str(a) for a in command.get("arguments") or [value]], str(value)
    with open(directory / "stdout", "ab") as out, open(directory / "stderr", "ab") as err:
        return subprocess.Popen(
            argv,
            executable=executable,
            cwd=directory,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            start_new_session=True,
            close_fds=True,
        )


def kill_group(pgid: int | None, sig: int = signal.SIGKILL) -> bool:
    """Signal a whole process group; False when it no longer exists."""
    if not pgid:
        return False
    try:
        os.killpg(pgid, sig)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        logger.warning("not allowed to signal process group %s", pgid)
        return False


def group_alive(pgid: int) -> bool:
    """Does any process of the group still run? Zombies do not count: orphans of a killed
    group are reaped by PID 1 at its own pace, and they hold no resources."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        entries = os.listdir("/proc")
    except OSError:
        return True
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                fields = f.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] not in (b"Z", b"X"):
            return True
    return False


def wait_status(returncode: int) -> int:
    """``Popen.returncode`` → the raw wait status Mesos reports in FAILURE events."""
    return -returncode if returncode < 0 else returncode << 8
