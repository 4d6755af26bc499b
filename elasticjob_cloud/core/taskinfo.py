"""Configuration models → Mesos v1 ``TaskInfo`` / ``ExecutorInfo`` dicts (as pymesos sends them).

Every job runs under the framework's executor (``executor_command``, one per app per agent:
``{app}@-@{agent}``), except TRANSIENT SCRIPT jobs, which need no app process between runs and run
as Mesos command tasks, as in the original. Unlike the original, the command is not
``scriptCommandLine`` with the shard JSON appended for ``sh -c`` and the app fetched by the Mesos
fetcher: it is ``executor_command`` again, given the task's data and the app in its environment
(``ENV_TASK_DATA``, ``ENV_APP_DATA``), which runs the task with the framework executor's own code.
So a SCRIPT job behaves the same under both executors: no shell, ``./name`` for a bare name, the
shard JSON as one argument, and the executor's download limits and safe extraction.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Any

from .models import (
    DELIMITER,
    AppConfig,
    JobConfig,
    JobType,
    TaskId,
    TaskType,
    executor_id,
    parse_sharding_item_parameters,
)
from .taskdata import (
    ENV_APP_DATA,
    ENV_TASK_DATA,
    AppData,
    JobConfigContext,
    ShardingContexts,
    TaskData,
    b64_text,
    compact_json,
    encode_app_data,
    encode_task_data,
    env_chunks,
    task_data_json,
)


def uses_command_executor(job: JobConfig) -> bool:
    return job.is_transient and job.job_type is JobType.SCRIPT


def task_name(task_id: TaskId) -> str:
    """The task ID without its UUID (the original's task name)."""
    return str(task_id).rsplit(DELIMITER, 1)[0]


def _scalars(cpus: float, mem: float, offered: Iterable[Mapping[str, Any]] = ()) -> list[dict[str, Any]]:
    """cpus/mem resources; each keeps the role/reservation of the first offered resource of its name."""
    result = []
    for name, value in (("cpus", cpus), ("mem", mem)):
        template = next((dict(r) for r in offered if r.get("name") == name), {})
        template.update(name=name, type="SCALAR", scalar={"value": float(value)})
        for volatile in ("ranges", "set"):
            template.pop(volatile, None)
        result.append(template)
    return result


def task_data(job: JobConfig, app: AppConfig, task_id: TaskId, default_time_zone: str = "") -> TaskData:
    """What the executor needs for one shard; a DAEMON job without a zone gets the scheduler's."""
    parameters = parse_sharding_item_parameters(job.sharding_item_parameters)
    item = task_id.sharding_item
    return TaskData(
        ShardingContexts(
            task_id=str(task_id),
            job_name=job.job_name,
            sharding_total_count=job.sharding_total_count,
            job_parameter=job.job_parameter,
            sharding_item_parameters={item: parameters.get(item, "")},
            job_event_sampling_count=app.event_trace_sampling_count,
        ),
        JobConfigContext(
            job_name=job.job_name,
            job_type=job.job_type.value,
            job_execution_type=job.execution_type.value,
            job_class=job.job_class,
            cron=job.cron if job.is_daemon else "",
            time_zone=job.time_zone or default_time_zone,
            misfire=job.misfire,
            streaming_process=job.streaming_process,
            script_command_line=job.script_command_line,
            bean_name=job.bean_name or "",
            application_context=job.application_context or "",
            job_properties=dict(job.job_properties),
        ),
    )


def app_data(app: AppConfig, idle_timeout_seconds: float) -> str:
    return encode_app_data(
        AppData(
            app_name=app.app_name,
            app_url=app.app_url,
            bootstrap_script=app.bootstrap_script,
            app_cache_enable=app.app_cache_enable,
            event_trace_sampling_count=app.event_trace_sampling_count,
            executor_idle_timeout_seconds=idle_timeout_seconds,
        )
    )


def executor_info(
    app: AppConfig,
    agent_id: str,
    executor_command: str,
    idle_timeout_seconds: float,
    default_time_zone: str = "",
) -> dict[str, Any]:
    info: dict[str, Any] = {
        "name": f"elasticjob-cloud executor of {app.app_name}",
        "command": {"value": executor_command, "shell": True},
        "resources": _scalars(app.cpu_count, app.memory_mb),
        "data": app_data(app, idle_timeout_seconds),
    }
    return {"executor_id": {"value": executor_id(app.app_name, agent_id, executor_version(info))}, **info}


def executor_version(info: Mapping[str, Any]) -> str:
    """A short digest of an ExecutorInfo without its ID: any change a master would refuse under
    the same executor ID (command, resources, the app data) gives another version."""
    text = json.dumps(info, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def command_info(app: AppConfig, data: str, executor_command: str) -> dict[str, Any]:
    """The command of a TRANSIENT SCRIPT task: the executor program, told its task and app."""
    pairs = env_chunks(ENV_TASK_DATA, data) + env_chunks(ENV_APP_DATA, app_data(app, 0.0))
    variables = [{"name": name, "type": "VALUE", "value": value} for name, value in pairs]
    return {"value": executor_command, "shell": True, "environment": {"variables": variables}}


def task_info(
    job: JobConfig,
    app: AppConfig,
    task_id: TaskId,
    offered: Iterable[Mapping[str, Any]] = (),
    executor_command: str = "elasticjob-cloud-executor",
    idle_timeout_seconds: float = 600.0,
    default_time_zone: str = "",
) -> dict[str, Any]:
    offered = list(offered)
    info: dict[str, Any] = {
        "name": task_name(task_id),
        "task_id": {"value": str(task_id)},
        "agent_id": {"value": task_id.agent_id},
        "resources": _scalars(job.cpu_count, job.memory_mb, offered),
        "data": encode_task_data(task_data(job, app, task_id, default_time_zone)),
    }
    if uses_command_executor(job):
        info["command"] = command_info(app, info["data"], executor_command)
    else:
        info["executor"] = executor_info(app, task_id.agent_id, executor_command, idle_timeout_seconds)
    return info


class TaskInfos:
    """``task_info`` for a launch round, with what repeats between rounds kept.

    A shard's ``data`` differs from one run to the next only by the task ID, and an app's
    ``ExecutorInfo`` is the same for every task on an agent; building both afresh cost most of the
    ~50 us per task (a round of 167 launches spent ~9 ms here). The JSON around the task ID is kept
    per (job, shard) and the executor per (app, agent), each reused only while the catalog still
    holds the same config objects (a changed job or app is a new object); ``warm`` prepares a job
    when the catalog loads it, so even its first launch finds it ready. Results equal
    ``task_info``'s. TRANSIENT SCRIPT tasks (command executor) are built in full: their command
    environment carries the whole task data.
    """

    LIMIT = 100_000  # kept entries; past it the cache starts again (deleted jobs leave entries)

    def __init__(self, executor_command: str, idle_timeout_seconds: float, default_time_zone: str = ""):
        self.executor_command = executor_command
        self.idle_timeout_seconds = idle_timeout_seconds
        self.default_time_zone = default_time_zone
        self._data: dict[tuple[str, int], tuple[JobConfig, AppConfig, str, str]] = {}
        self._executors: dict[tuple[str, str], tuple[AppConfig, dict[str, Any]]] = {}

    def build(
        self, job: JobConfig, app: AppConfig, task_id: TaskId, offered: Iterable[Mapping[str, Any]] = ()
    ) -> dict[str, Any]:
        if uses_command_executor(job):
            return task_info(
                job,
                app,
                task_id,
                offered,
                self.executor_command,
                self.idle_timeout_seconds,
                self.default_time_zone,
            )
        prefix, suffix = self._data_around_task_id(job, app, task_id.sharding_item)
        return {
            "name": task_name(task_id),
            "task_id": {"value": str(task_id)},
            "agent_id": {"value": task_id.agent_id},
            "resources": _scalars(job.cpu_count, job.memory_mb, list(offered)),
            "data": b64_text(prefix + compact_json(str(task_id)) + suffix),
            "executor": self._executor(app, task_id.agent_id),
        }

    def warm(self, job: JobConfig, app: AppConfig) -> None:
        """Prepare every shard's data ahead of its first launch (the catalog just loaded the job)."""
        if not uses_command_executor(job):
            for item in range(job.sharding_total_count):
                self._data_around_task_id(job, app, item)

    def _data_around_task_id(self, job: JobConfig, app: AppConfig, item: int) -> tuple[str, str]:
        key = (job.job_name, item)
        kept = self._data.get(key)
        if kept is None or kept[0] is not job or kept[1] is not app:
            # A task ID that cannot occur in a real one (NUL), so its JSON is found exactly once.
            mark = TaskId(job.job_name, item, TaskType.READY, "\0", "\0")
            text = task_data_json(task_data(job, app, mark, self.default_time_zone))
            prefix, found, suffix = text.partition(compact_json(str(mark)))
            if not found:
                raise ValueError(f"no task ID in the task data of {job.job_name}")
            self._trim(self._data)
            kept = self._data[key] = (job, app, prefix, suffix)
        return kept[2], kept[3]

    def executor_id(self, app: AppConfig, agent_id: str) -> str:
        """The ID of the executor this app's tasks on ``agent_id`` are launched with now."""
        return str(self._executor(app, agent_id)["executor_id"]["value"])

    def _executor(self, app: AppConfig, agent_id: str) -> dict[str, Any]:
        key = (app.app_name, agent_id)
        kept = self._executors.get(key)
        if kept is None or kept[0] is not app:
            info = executor_info(app, agent_id, self.executor_command, self.idle_timeout_seconds)
            self._trim(self._executors)
            kept = self._executors[key] = (app, info)
        return kept[1]

    def _trim(self, cache: dict[Any, Any]) -> None:
        if len(cache) >= self.LIMIT:
            cache.clear()
