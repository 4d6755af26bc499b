"""What the scheduler sees → trace rows (the ``core.ports.TraceSink`` of a configured trace).

Called on the engine's thread (launches, status updates) and the producer's (fires); it only builds
rows and hands them to the writer's queue. It keeps, per launched task, what a later status update
needs (host, IP, execution source, the task a failover replaces), and forgets it at the task's end.

Status rows: TASK_STAGING at launch (source CLOUD_SCHEDULER), then every update, source
CLOUD_EXECUTOR when the executor sent it, else CLOUD_SCHEDULER (master, agent, reconciliation).
Execution rows: a TRANSIENT task is one execution, started at TASK_RUNNING and completed by its final
state (success only for TASK_FINISHED). A DAEMON task runs many: each traced one is BEGIN … COMPLETE
(or a job failure) while the task stays running; the executor samples them by the app's
``eventTraceSamplingCount`` (only every Nth sends BEGIN/COMPLETE), as the original. A running
execution has no complete time and is reported "running", never "failed".
Execution source: FAILOVER for a failover task; MISFIRE for a run that fired while the job's previous
run was still going (it waited) or that catches up missed fires; NORMAL_TRIGGER otherwise.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from ..core.models import TaskId
from ..core.ports import LaunchedTask
from ..core.taskdata import DAEMON_BEGIN, DAEMON_COMPLETE, JOB_FAILURE_PREFIX, is_job_failure
from . import schema
from .rows import EXEC_COMPLETE, EXEC_START, FIRE, STATUS, Row, row_id, truncate

FINAL = frozenset(
    {
        "TASK_FINISHED", "TASK_FAILED", "TASK_KILLED", "TASK_LOST", "TASK_ERROR", "TASK_DROPPED",
        "TASK_GONE", "TASK_GONE_BY_OPERATOR",
    }
)  # fmt: skip


@dataclass
class _Task:
    job_name: str
    item: int
    hostname: str
    ip: str
    source: str
    original_task_id: str
    daemon: bool
    launched_at: datetime
    started_at: datetime | None = None
    execution: str | None = None  # the open DAEMON execution's row ID


class TraceRecorder:
    def __init__(self, put: Callable[[Row], None], zone: tzinfo):
        self._put = put
        self._zone = zone
        self._tasks: dict[str, _Task] = {}
        self._lock = threading.Lock()  # _misfired is shared with the producer's thread
        self._misfired: set[str] = set()
        self._misfire_round: dict[str, float] = {}
        self._running: dict[str, int] = {}  # launched tasks per job, not yet ended

    def time(self, epoch: float) -> datetime:
        return datetime.fromtimestamp(epoch, self._zone).replace(tzinfo=None)

    # ---------------------------------------------------------------- TraceSink
    def launched(self, tasks: list[LaunchedTask], now: float) -> None:
        at = self.time(now)
        for launched in tasks:
            try:
                parsed = TaskId.parse(launched.task_id)
            except ValueError:
                continue
            source = self._source(parsed, now)
            task = _Task(
                parsed.job_name, parsed.sharding_item, launched.hostname, launched.ip, source,
                launched.original_task_id, launched.daemon, at,
            )  # fmt: skip
            self._tasks[launched.task_id] = task
            with self._lock:
                self._running[task.job_name] = self._running.get(task.job_name, 0) + 1
            self._status_row(launched.task_id, parsed, task, "TASK_STAGING", None, "CLOUD_SCHEDULER",
                             parsed.agent_id, at, "launch")  # fmt: skip

    def status(self, status: Mapping[str, Any], now: float) -> None:
        task_id = str((status.get("task_id") or {}).get("value", ""))
        try:
            parsed = TaskId.parse(task_id)
        except ValueError:
            return
        state = str(status.get("state", ""))
        message = status.get("message")
        message = str(message) if message is not None else None
        agent = str((status.get("agent_id") or {}).get("value", "") or parsed.agent_id)
        stamp = status.get("timestamp")  # whole seconds from pymesos's executor: the ID only
        at = self.time(now)  # when the scheduler saw it: orders the trail as it happened
        source = "CLOUD_EXECUTOR" if status.get("source") == "SOURCE_EXECUTOR" else "CLOUD_SCHEDULER"
        task = self._tasks.get(task_id)
        update = status.get("uuid") or f"{stamp}"
        self._status_row(task_id, parsed, task, state, message, source, agent, at, update)
        if task is None:
            self._unknown(task_id, parsed, state, message, at, update)
        elif task.daemon or message in (DAEMON_BEGIN, DAEMON_COMPLETE):
            self._daemon(task_id, task, state, message, at, update)
        else:
            self._transient(task_id, task, state, message, at)
        if state in FINAL and self._tasks.pop(task_id, None) is not None:
            with self._lock:
                left = self._running.get(parsed.job_name, 1) - 1
                if left > 0:
                    self._running[parsed.job_name] = left
                else:
                    self._running.pop(parsed.job_name, None)

    def fired(
        self,
        job_name: str,
        kind: str,
        instant: float,
        runs: int,
        missed: int,
        ready_count: int | None,
        now: float,
    ) -> None:
        if kind == "ANCHOR":
            return
        fire_time = self.time(instant)
        self._put(
            Row(
                FIRE,
                {
                    "id": row_id("fire", job_name, kind, fire_time.isoformat()),
                    "job_name": job_name,
                    "kind": kind,
                    "fire_time": fire_time,
                    "runs": runs,
                    "missed": missed,
                    "ready_count": ready_count,
                    "creation_time": self.time(now),
                },
            )
        )
        with self._lock:
            if kind == "CATCH_UP" or (kind == "FIRE" and self._running.get(job_name)):
                self._misfired.add(job_name)

    # ---------------------------------------------------------------- executions
    def _transient(self, task_id: str, task: _Task, state: str, message: str | None, at: datetime) -> None:
        if state == "TASK_RUNNING" and task.started_at is None:
            task.started_at = at
            self._execution(EXEC_START, row_id("exec", task_id), task_id, task, at)
        elif state in FINAL:
            start = task.started_at or task.launched_at
            cause = None if state == "TASK_FINISHED" else _cause(state, message)
            self._execution(EXEC_COMPLETE, row_id("exec", task_id), task_id, task, start, at, cause)

    def _daemon(
        self, task_id: str, task: _Task, state: str, message: str | None, at: datetime, update: Any
    ) -> None:
        task.daemon = True
        if state == "TASK_RUNNING" and message == DAEMON_BEGIN:
            task.execution = row_id("exec", task_id, update)
            task.started_at = at
            self._execution(EXEC_START, task.execution, task_id, task, at)
        elif task.execution is not None and (
            (state == "TASK_RUNNING" and (message == DAEMON_COMPLETE or is_job_failure(message)))
            or state in FINAL
        ):
            cause = None if message == DAEMON_COMPLETE and state == "TASK_RUNNING" else _cause(state, message)
            self._execution(EXEC_COMPLETE, task.execution, task_id, task, task.started_at or at, at, cause)
            task.execution = None

    def _unknown(
        self, task_id: str, parsed: TaskId, state: str, message: str | None, at: datetime, update: Any
    ) -> None:
        """A task another leader launched: its final state completes the row that leader started
        (same ID), or writes a completed one if that never got there."""
        if state not in FINAL or message in (DAEMON_BEGIN, DAEMON_COMPLETE):
            return
        source = "FAILOVER" if str(parsed.task_type) == "FAILOVER" else "NORMAL_TRIGGER"
        task = _Task(parsed.job_name, parsed.sharding_item, "", "", source, "", False, at)
        cause = None if state == "TASK_FINISHED" else _cause(state, message)
        self._execution(EXEC_COMPLETE, row_id("exec", task_id), task_id, task, None, at, cause)

    def _execution(
        self,
        kind: str,
        execution_id: str,
        task_id: str,
        task: _Task,
        start: datetime | None,
        complete: datetime | None = None,
        cause: str | None = None,
    ) -> None:
        values = {
            "id": execution_id,
            "job_name": task.job_name,
            "task_id": task_id,
            "hostname": task.hostname,
            "ip": task.ip,
            "sharding_item": task.item,
            "execution_source": task.source,
            "failure_cause": truncate(cause, schema.FAILURE_CAUSE_LIMIT),
            "is_success": 1 if kind == EXEC_COMPLETE and cause is None else 0,
            "start_time": start,
            "complete_time": complete,
        }
        self._put(Row(kind, values))

    # ---------------------------------------------------------------- helpers
    def _status_row(
        self,
        task_id: str,
        parsed: TaskId,
        task: _Task | None,
        state: str,
        message: str | None,
        source: str,
        agent: str,
        at: datetime,
        update: Any,
    ) -> None:
        values = {
            "id": row_id("status", task_id, state, update),
            "job_name": parsed.job_name,
            "original_task_id": task.original_task_id if task is not None else "",
            "task_id": task_id,
            "slave_id": agent,
            "source": source,
            "execution_type": str(parsed.task_type),
            "sharding_item": f"[{parsed.sharding_item}]",
            "state": state,
            "message": truncate(message, schema.MESSAGE_LIMIT),
            "creation_time": at,
        }
        self._put(Row(STATUS, values))

    def _source(self, parsed: TaskId, now: float) -> str:
        if str(parsed.task_type) == "FAILOVER":
            return "FAILOVER"
        name = parsed.job_name
        with self._lock:
            if name in self._misfired:
                self._misfired.discard(name)
                self._misfire_round[name] = now
            if self._misfire_round.get(name) == now:  # every shard of that run
                return "MISFIRE"
            self._misfire_round.pop(name, None)
        return "NORMAL_TRIGGER"


def _cause(state: str, message: str | None) -> str:
    if message and is_job_failure(message):
        return message.removeprefix(JOB_FAILURE_PREFIX)
    return f"{state}: {message}" if message else state
