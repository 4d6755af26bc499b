"""Simulated-task mode (``--simulate-tasks SECONDS``), for scale runs of the scheduler.

SIMULATION, off by default: no executor process or sandbox is created. Every launched task
reports TASK_RUNNING at once and TASK_FINISHED after the configured time (TASK_KILLED if killed
first). The status updates still go through the agent's real update manager and the master,
with uuids and acknowledgements, and executor resources are charged as usual, so offer and
update traffic is what a scheduler would see from real tasks. Framework messages to a
simulated executor are dropped.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from .executors import Executor
from .records import make_status
from .timers import TimerHandle

if TYPE_CHECKING:
    from .agent import Agent

logger = logging.getLogger(__name__)


class SimulatedRunner:
    def __init__(self, agent: Agent, executor: Executor, seconds: float) -> None:
        self.agent = agent
        self.executor = executor
        self.seconds = seconds
        self._timers: dict[str, TimerHandle] = {}

    def _update(self, task_id: str, state: str, message: str) -> None:
        status = make_status(
            task_id,
            state,
            self.agent.agent_id,
            "SOURCE_EXECUTOR",
            executor_id=self.executor.executor_id,
            message=message,
        )
        self.agent.new_update(self.executor.framework_id, status)

    def launch(self, task: dict[str, Any]) -> None:
        """Caller holds the lock."""
        task_id = str(task["task_id"]["value"])
        self._update(task_id, "TASK_RUNNING", "simulated task")
        self._timers[task_id] = self.agent.timers.call_later(self.seconds, lambda: self._finish(task_id))

    def _finish(self, task_id: str) -> None:
        with self.agent.lock:
            if self._timers.pop(task_id, None) is None:
                return
            self._update(task_id, "TASK_FINISHED", "simulated task finished")
            self._maybe_end()

    def kill(self, task_id: str, kill_policy: Any) -> None:
        timer = self._timers.pop(task_id, None)
        if timer is not None:
            timer.cancel()
            self._update(task_id, "TASK_KILLED", "simulated task killed")
        self._maybe_end()

    def shutdown(self) -> None:
        for task_id in list(self._timers):
            self.kill(task_id, None)
        self.agent.executor_terminated(self.executor, None, "REASON_EXECUTOR_TERMINATED")

    def _maybe_end(self) -> None:
        if self.executor.command_task and not self._timers:
            self.agent.executor_terminated(self.executor, None, "REASON_EXECUTOR_TERMINATED")
