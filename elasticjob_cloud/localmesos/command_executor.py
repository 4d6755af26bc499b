"""Process launch on an agent: custom executors, and the built-in command executor.

Custom executor: fetch ``ExecutorInfo.command.uris``, spawn the command (see :mod:`executors`),
then wait for it; it talks to the agent over ``/api/v1/executor`` like any pymesos executor.

Command executor: real Mesos runs ``mesos-executor`` per ``TaskInfo.command`` task; here it is a
thread per task that speaks to the agent's status pipeline directly, with the same visible
behaviour since Mesos 1.5 (executor ID = task ID, TASK_STARTING, TASK_RUNNING, then TASK_FINISHED
on exit 0, TASK_FAILED otherwise, TASK_KILLED when killed, TASK_KILLING first for frameworks
with that capability; no FAILURE event, as the master never hears of command executors).
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from typing import TYPE_CHECKING, Any

from .executors import Executor, executor_environment, kill_group, make_sandbox, spawn, wait_status
from .records import make_status

if TYPE_CHECKING:
    from .agent import Agent

logger = logging.getLogger(__name__)

DEFAULT_KILL_GRACE = 3.0


def _environment(agent: Agent, executor: Executor, command: dict[str, Any]) -> dict[str, str]:
    framework_info = agent.frameworks.get(executor.framework_id, {})
    return executor_environment(
        dict(os.environ),
        agent_id=agent.agent_id,
        agent_endpoint=agent.url,
        agent_pid=agent.pid,
        framework_id=executor.framework_id,
        executor_id=executor.executor_id,
        directory=executor.directory,
        checkpoint=bool(framework_info.get("checkpoint")),
        grace_period=agent.config.grace_period,
        recovery_timeout=agent.config.recovery_timeout,
        command_env=(command.get("environment") or {}).get("variables") or [],
    )


def command_executor_info(framework_id: str, task: dict[str, Any]) -> dict[str, Any]:
    """The ``ExecutorInfo`` a real agent makes up for a ``TaskInfo.command`` task."""
    task_id = task["task_id"]["value"]
    value = task.get("command", {}).get("value", "")
    return {
        "executor_id": {"value": task_id},
        "framework_id": {"value": framework_id},
        "name": f"Command Executor (Task: {task_id}) (Command: sh -c '{value[:60]}')",
        "source": task_id,
        "command": {"value": "mesos-executor (emulated in-process)"},
        "resources": [],
    }


def start_custom_executor(agent: Agent, executor: Executor) -> None:
    command = executor.info.get("command") or {}
    env = _environment(agent, executor, command)
    thread = threading.Thread(
        target=_run_custom, args=(agent, executor, command, env), name=f"executor-{executor.executor_id}"
    )
    thread.daemon = True
    thread.start()

    def registration_timeout() -> None:
        with agent.lock:
            if executor.state == "launching":
                logger.warning("executor %s did not subscribe in time", executor.executor_id)
                executor.failure_reason = "REASON_EXECUTOR_REGISTRATION_TIMEOUT"
                executor.state = "terminating"
                kill_group(executor.pid)

    executor.timers.append(
        agent.timers.call_later(agent.config.executor_registration_timeout, registration_timeout)
    )


def _run_custom(agent: Agent, executor: Executor, command: dict[str, Any], env: dict[str, str]) -> None:
    try:
        make_sandbox(executor.directory)
        agent.fetcher.fetch_all(command.get("uris") or [], executor.directory)
        proc = spawn(command, executor.directory, env)
    except Exception as exc:
        logger.warning("executor %s failed to launch: %s", executor.executor_id, exc)
        with agent.lock:
            agent.executor_terminated(
                executor, None, "REASON_CONTAINER_LAUNCH_FAILED", f"Failed to launch: {exc}"
            )
        return
    agent.track_process(proc.pid)
    with agent.lock:
        executor.pid = proc.pid
        executor.proc = proc
        if executor.state in ("terminating", "terminated"):
            kill_group(proc.pid)
    logger.info("executor %s started as pid %s in %s", executor.executor_id, proc.pid, executor.directory)
    proc.wait()
    kill_group(proc.pid)  # whatever it left in its session goes with it, as with a destroyed container
    logger.info("executor %s exited with %s", executor.executor_id, proc.returncode)
    how = f"Executor terminated: {_describe(proc.returncode)}"  # the tasks' message says how it ended
    with agent.lock:
        agent.executor_terminated(executor, wait_status(proc.returncode), "REASON_EXECUTOR_TERMINATED", how)


class CommandRunner:
    """The built-in command executor for one task."""

    def __init__(self, agent: Agent, executor: Executor, task: dict[str, Any]) -> None:
        self.agent = agent
        self.executor = executor
        self.task = task
        self.task_id = str(task["task_id"]["value"])
        self.killed = False
        self.proc: Any = None

    def start(self) -> None:
        thread = threading.Thread(target=self._run, name=f"command-{self.task_id}")
        thread.daemon = True
        thread.start()

    def _update(self, state: str, message: str | None = None, reason: str | None = None) -> None:
        status = make_status(
            self.task_id,
            state,
            self.agent.agent_id,
            "SOURCE_EXECUTOR",
            executor_id=self.task_id,
            message=message,
            reason=reason,
        )
        self.agent.new_update(self.executor.framework_id, status)

    def _finish(self, state: str, message: str, reason: str | None = None) -> None:
        self._update(state, message, reason)
        self.agent.executor_terminated(self.executor, None, "REASON_EXECUTOR_TERMINATED")

    def _run(self) -> None:
        agent, executor = self.agent, self.executor
        command = self.task.get("command") or {}
        try:
            make_sandbox(executor.directory)
            agent.fetcher.fetch_all(command.get("uris") or [], executor.directory)
            env = _environment(agent, executor, command)
            with agent.lock:
                if self.killed:
                    self._finish("TASK_KILLED", "Task killed before it started")
                    return
                self._update("TASK_STARTING")
            proc = spawn(command, executor.directory, env)
        except Exception as exc:
            logger.warning("command task %s failed to launch: %s", self.task_id, exc)
            with agent.lock:
                self._finish("TASK_FAILED", f"Failed to launch: {exc}", "REASON_CONTAINER_LAUNCH_FAILED")
            return
        agent.track_process(proc.pid)
        with agent.lock:
            self.proc = executor.proc = proc
            executor.pid = proc.pid
            executor.state = "running"
            executor.launched.update(executor.queued)
            executor.queued.clear()
            self._update("TASK_RUNNING")
            if self.killed:
                self._signal(None)
        returncode = proc.wait()
        kill_group(proc.pid)
        with agent.lock:
            if self.killed:
                self._finish("TASK_KILLED", _describe(returncode))
            elif returncode == 0:
                self._finish("TASK_FINISHED", _describe(returncode))
            else:
                self._finish("TASK_FAILED", _describe(returncode), "REASON_COMMAND_EXECUTOR_FAILED")

    def launch(self, task: dict[str, Any]) -> None:  # pragma: no cover - one task per command executor
        logger.warning("command executor %s got a second task; ignored", self.task_id)

    def kill(self, task_id: str, kill_policy: Any) -> None:
        """Caller holds the lock. SIGTERM the task's group, SIGKILL after the grace period."""
        if self.killed:
            return
        self.killed = True
        if self.proc is not None:
            self._signal(kill_policy)

    def shutdown(self) -> None:
        self.kill(self.task_id, None)

    def _signal(self, kill_policy: Any) -> None:
        grace = DEFAULT_KILL_GRACE
        nanos = ((kill_policy or {}).get("grace_period") or {}).get("nanoseconds")
        if nanos is not None:
            grace = float(nanos) / 1e9
        framework_info = self.agent.frameworks.get(self.executor.framework_id, {})
        if any(c.get("type") == "TASK_KILLING_STATE" for c in framework_info.get("capabilities") or []):
            self._update("TASK_KILLING")
        pid = self.proc.pid
        kill_group(pid, signal.SIGTERM)
        self.executor.timers.append(self.agent.timers.call_later(grace, lambda: kill_group(pid)))


def _describe(returncode: int) -> str:
    if returncode < 0:
        return f"Command terminated with signal {signal.Signals(-returncode).name}"
    return f"Command exited with status {returncode}"
