"""An agent: its HTTP endpoint, executors, tasks and status update manager.

Each agent listens on its own port (``/api/v1/executor``, ``/state``) because executors and the
scheduler's state readers address agents individually (``MESOS_AGENT_ENDPOINT``, the ``pid`` in
the master's ``/state``). Master→agent "messages" are direct calls under the cluster lock; a
partitioned agent simply stops forwarding and ignores the master until healed.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .command_executor import CommandRunner, command_executor_info, start_custom_executor
from .executors import AgentTask, Executor, kill_group, sandbox_path
from .fetcher import Fetcher
from .files import attachments
from .httpbase import TrackingHTTPServer
from .records import TERMINAL_STATES, make_status, new_container_id
from .resources import Resources
from .simulated import SimulatedRunner
from .status_updates import StatusUpdateManager
from .timers import TimerQueue

if TYPE_CHECKING:
    from .master import Master

logger = logging.getLogger(__name__)


@dataclass
class AgentConfig:
    work_dir: Path
    host: str = "127.0.0.1"
    hostname: str = "localhost"
    grace_period: float = 5.0
    status_update_retry_interval: float = 10.0
    executor_registration_timeout: float = 60.0
    heartbeat_interval: float | None = 15.0
    simulate_tasks: float | None = None
    # how long a checkpointing executor waits for its agent to come back (the agent's recovery_timeout,
    # 15 minutes in Mesos); these agents never recover, so an executor whose agent died (a kill -9 of
    # the local Mesos) only waits this long before it kills its jobs and exits
    recovery_timeout: float = 3.0


class Agent:
    def __init__(
        self,
        agent_id: str,
        total: Resources,
        attributes: list[dict[str, Any]],
        config: AgentConfig,
        master: Master,
        timers: TimerQueue,
        lock: threading.RLock,
        track_process: Any,
    ) -> None:
        from .agent_http import AgentHandler

        self.agent_id = agent_id
        self.total = total
        self.attributes = attributes
        self.config = config
        self.master = master
        self.timers = timers
        self.lock = lock
        self.track_process = track_process
        self.hostname = config.hostname
        self.start_time = time.time()
        self.partitioned = False
        self.removed = False
        self.frameworks: dict[str, dict[str, Any]] = {}
        self.removed_frameworks: set[str] = set()
        self.executors: dict[tuple[str, str], Executor] = {}
        self.completed_executors: deque[Executor] = deque(maxlen=200)
        self.tasks: dict[tuple[str, str], AgentTask] = {}
        self.resources_of: dict[tuple[str, str], Resources] = {}
        self.fetcher = Fetcher(config.work_dir / "fetcher-cache" / agent_id)
        self.sum = StatusUpdateManager(self._forward, timers, config.status_update_retry_interval, lock)
        self.server = TrackingHTTPServer((config.host, 0), AgentHandler, self)
        self.port = int(self.server.server_address[1])
        self._thread: threading.Thread | None = None

    # ---- addressing ------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"{self.config.host}:{self.port}"

    @property
    def pid(self) -> str:
        return f"slave(1)@{self.url}"

    def url_json(self) -> dict[str, Any]:
        return {
            "scheme": "http",
            "address": {"hostname": self.hostname, "ip": self.config.host, "port": self.port},
            "path": "/slave(1)",
        }

    def agent_info(self) -> dict[str, Any]:
        return {
            "id": {"value": self.agent_id},
            "hostname": self.hostname,
            "port": self.port,
            "resources": self.total.to_mesos(),
            "attributes": self.attributes,
        }

    def start(self) -> Agent:
        self._thread = self.server.serve_in_thread(f"agent-{self.agent_id}")
        return self

    def file_attachments(self) -> dict[str, str]:
        """What ``/files`` serves: every sandbox of an executor this agent lists (see ``files``)."""
        with self.lock:
            known = [*self.completed_executors, *self.executors.values()]
            triples = [(e.framework_id, e.executor_id, e.directory) for e in known]
        return attachments(self.config.work_dir, self.agent_id, triples)

    # ---- master → agent --------------------------------------------------------------------

    def launch(self, framework_info: dict[str, Any], task: dict[str, Any], resources: Resources) -> None:
        """Run a task the master accepted; ``resources`` are its ``TaskInfo.resources``, which the
        master has already parsed and validated (one parse per task, not two)."""
        fid = framework_info["id"]["value"]
        self.frameworks[fid] = framework_info
        task_id = task["task_id"]["value"]
        if "executor" in task:
            info = task["executor"]
            eid = info["executor_id"]["value"]
            kind = "custom"
        else:
            eid = task_id
            info = command_executor_info(fid, task)
            kind = "command"
        if self.config.simulate_tasks is not None:
            kind = "simulated"
        self.tasks[(fid, task_id)] = AgentTask(task, fid, eid)
        self.resources_of[(fid, task_id)] = resources
        executor = self.executors.get((fid, eid))
        if executor is not None and executor.state == "terminating":
            self.new_update(fid, self._agent_status(task_id, "TASK_LOST", eid, "REASON_EXECUTOR_TERMINATED"))
            return
        if executor is None:
            executor = self._create_executor(kind, fid, eid, info)
            executor.command_task = "command" in task
        if executor.state == "running" and kind != "command":
            executor.launched[task_id] = task
            if executor.runner is not None:
                executor.runner.launch(task)
            elif executor.stream is not None:
                executor.stream.send(
                    {"type": "LAUNCH", "launch": {"task": task, "framework_info": framework_info}}
                )
        else:
            executor.queued[task_id] = task
        if kind == "command":
            executor.runner = CommandRunner(self, executor, task)
            executor.runner.start()

    def _create_executor(self, kind: str, fid: str, eid: str, info: dict[str, Any]) -> Executor:
        container = new_container_id()
        directory = sandbox_path(self.config.work_dir, self.agent_id, fid, eid, container)
        executor = Executor(kind, fid, eid, info, container, directory)
        self.executors[(fid, eid)] = executor
        if kind == "simulated":
            executor.state = "running"
            executor.runner = SimulatedRunner(self, executor, self.config.simulate_tasks or 0.0)
        elif kind == "custom":
            start_custom_executor(self, executor)
        return executor

    def kill_task(self, framework_id: str, task_id: str, kill_policy: Any = None) -> None:
        if self.partitioned:
            return
        task = self.tasks.get((framework_id, task_id))
        if task is None or task.state in TERMINAL_STATES:
            return
        executor = self.executors.get((framework_id, task.executor_id))
        if executor is None:
            return
        if task_id in executor.queued and executor.kind != "command":
            executor.queued.pop(task_id)
            self.new_update(
                framework_id, self._agent_status(task_id, "TASK_KILLED", executor.executor_id, None)
            )
        elif executor.runner is not None:
            executor.runner.kill(task_id, kill_policy)
        elif executor.stream is not None:
            executor.killing.add(task_id)
            event: dict[str, Any] = {"task_id": {"value": task_id}}
            if kill_policy:
                event["kill_policy"] = kill_policy
            executor.stream.send({"type": "KILL", "kill": event})

    def acknowledge(self, framework_id: str, task_id: str, status_uuid: str) -> None:
        acked = self.sum.acknowledge(framework_id, task_id, status_uuid)
        if acked is None:
            return
        self.master.task_acknowledged(framework_id, task_id, acked["state"])
        if acked["state"] in TERMINAL_STATES:
            task = self.tasks.pop((framework_id, task_id), None)
            self.resources_of.pop((framework_id, task_id), None)
            executor = self._executor_of(framework_id, task.executor_id) if task else None
            if executor is not None and task is not None:
                executor.launched.pop(task_id, None)
                executor.completed.append(task.info)

    def _executor_of(self, framework_id: str, executor_id: str) -> Executor | None:
        """The live executor, else its latest completed run: a task acknowledged after its executor
        ended is listed among that run's ``completed_tasks``, as a Mesos agent lists it."""
        found = self.executors.get((framework_id, executor_id))
        if found is None:
            found = next(
                (
                    e
                    for e in reversed(self.completed_executors)
                    if e.framework_id == framework_id and e.executor_id == executor_id
                ),
                None,
            )
        return found

    def message_executor(self, framework_id: str, executor_id: str, data: str) -> None:
        executor = self.executors.get((framework_id, executor_id))
        if self.partitioned or executor is None or executor.stream is None:
            logger.warning("message for executor %s dropped: not subscribed", executor_id)
            return
        executor.stream.send({"type": "MESSAGE", "message": {"data": data}})

    def shutdown_executor(self, framework_id: str, executor_id: str) -> None:
        executor = self.executors.get((framework_id, executor_id))
        if executor is None or executor.state in ("terminating", "terminated"):
            return
        executor.shutdown_requested = True
        executor.state = "terminating"
        if executor.runner is not None:
            executor.runner.shutdown()
            return
        if executor.stream is not None:
            executor.stream.send({"type": "SHUTDOWN"})
        pid = executor.pid
        executor.timers.append(self.timers.call_later(self.config.grace_period, lambda: kill_group(pid)))

    def shutdown_framework(self, framework_id: str) -> None:
        self.removed_frameworks.add(framework_id)
        for (fid, eid), _ in list(self.executors.items()):
            if fid == framework_id:
                self.shutdown_executor(fid, eid)
        self.sum.drop_framework(framework_id)
        for key in [k for k in self.tasks if k[0] == framework_id]:
            self.tasks.pop(key)
        self.frameworks.pop(framework_id, None)

    def flush_updates(self, framework_id: str | None = None) -> None:
        if not self.partitioned:
            self.sum.resend(framework_id)

    # ---- executor side ---------------------------------------------------------------------

    def _agent_status(self, task_id: str, state: str, executor_id: str, reason: str | None) -> dict[str, Any]:
        return make_status(
            task_id, state, self.agent_id, "SOURCE_AGENT", executor_id=executor_id, reason=reason
        )

    def new_update(self, framework_id: str, status: dict[str, Any]) -> bool:
        """An update from an executor or the agent itself enters the status update manager."""
        if framework_id in self.removed_frameworks:
            return False
        task = self.tasks.get((framework_id, status["task_id"]["value"]))
        if task is not None and task.state not in TERMINAL_STATES:
            task.state = status["state"]
        return self.sum.add(framework_id, status)

    def _forward(self, framework_id: str, head: dict[str, Any], latest: dict[str, Any]) -> bool:
        if self.partitioned or self.removed:
            return True  # keep it; retried once reachable
        self.master.status_received(self.agent_id, framework_id, latest)
        return self.master.forward_update(self.agent_id, framework_id, head)

    def executor_terminated(
        self, executor: Executor, returncode: int | None, reason: str, message: str = "Executor terminated"
    ) -> None:
        """Process gone (or never started): its unfinished tasks fail, the scheduler is told."""
        if executor.state == "terminated":
            return
        executor.state = "terminated"
        executor.cancel_timers()
        if executor.stream is not None:
            executor.stream.close_quietly()
            executor.stream = None
        fid, eid = executor.framework_id, executor.executor_id
        for task_id in list(executor.queued) + list(executor.launched):
            task = self.tasks.get((fid, task_id))
            if task is None or task.state in TERMINAL_STATES:
                continue
            killed = executor.shutdown_requested or task_id in executor.killing
            state = "TASK_KILLED" if killed else "TASK_FAILED"
            status = self._agent_status(task_id, state, eid, executor.failure_reason or reason)
            status["message"] = message
            self.new_update(fid, status)
        executor.queued.clear()
        self.executors.pop((fid, eid), None)
        self.completed_executors.append(executor)
        if executor.kind == "custom" and returncode is not None and not self.partitioned and not self.removed:
            self.master.executor_exited(self.agent_id, fid, eid, returncode)

    # ---- shutdown ------------------------------------------------------------------------

    def stop(self, wait: float = 2.0) -> None:
        """End every executor (SHUTDOWN, then SIGKILL of its group) and close the endpoint."""
        with self.lock:
            self.removed = True
            procs = []
            for executor in list(self.executors.values()):
                if executor.stream is not None:
                    executor.stream.send({"type": "SHUTDOWN"})
                if executor.runner is not None:
                    executor.runner.shutdown()
                executor.shutdown_requested = True
                executor.cancel_timers()
                if executor.proc is not None:
                    if executor.stream is not None:
                        procs.append(executor.proc)  # subscribed: give it a moment to exit cleanly
                    else:
                        kill_group(executor.proc.pid)
            self.sum.clear()
        deadline = time.monotonic() + wait
        for proc in procs:
            while time.monotonic() < deadline and proc.poll() is None:
                time.sleep(0.02)
            kill_group(proc.pid)
        self.server.close_all()
