"""Configuration and task-identity value objects.

Field names are Python's; the wire (REST and ZooKeeper JSON) names live in ``core.schemas``.
Defaults are the original's, so data written by either implementation reads back the same.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, replace

from .policies import RunPolicy

DELIMITER = "@-@"
UNASSIGNED_AGENT = "unassigned-slave"

# The original always stores both handler keys with these values; kept so its readers accept our data.
DEFAULT_JOB_PROPERTIES = {
    "job_exception_handler": "com.dangdang.ddframe.job.executor.handler.impl.DefaultJobExceptionHandler",
    "executor_service_handler": "com.dangdang.ddframe.job.executor.handler.impl.DefaultExecutorServiceHandler",
}


class JobType(enum.StrEnum):
    SIMPLE = "SIMPLE"
    DATAFLOW = "DATAFLOW"
    SCRIPT = "SCRIPT"


class ExecutionType(enum.StrEnum):
    TRANSIENT = "TRANSIENT"
    DAEMON = "DAEMON"


class TaskType(enum.StrEnum):
    """Why a task was launched: a scheduled or triggered run, or a shard re-run after a failure."""

    READY = "READY"
    FAILOVER = "FAILOVER"


@dataclass(frozen=True)
class AppConfig:
    app_name: str
    app_url: str
    bootstrap_script: str
    cpu_count: float = 1.0
    memory_mb: float = 128.0
    app_cache_enable: bool = True
    event_trace_sampling_count: int = 0


@dataclass(frozen=True)
class JobConfig:
    job_name: str
    app_name: str
    job_type: JobType
    execution_type: ExecutionType
    cron: str
    sharding_total_count: int
    cpu_count: float
    memory_mb: float
    job_class: str = ""
    sharding_item_parameters: str = ""
    job_parameter: str = ""
    failover: bool = False
    misfire: bool = False
    description: str = ""
    job_properties: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_JOB_PROPERTIES))
    streaming_process: bool = False
    script_command_line: str = ""
    bean_name: str | None = None
    application_context: str | None = None
    time_zone: str | None = None
    docker_image_name: str | None = None
    policy: RunPolicy = field(
        default_factory=RunPolicy
    )  # issue #17's optional run policies (``core.policies``)

    @property
    def is_transient(self) -> bool:
        return self.execution_type is ExecutionType.TRANSIENT

    @property
    def is_daemon(self) -> bool:
        return self.execution_type is ExecutionType.DAEMON

    def with_changes(self, **changes: object) -> JobConfig:
        return replace(self, **changes)  # type: ignore[arg-type]


def parse_sharding_item_parameters(text: str) -> dict[int, str]:
    """``"0=a, 1=b"`` → ``{0: "a", 1: "b"}``; assumes text already validated by the schema."""
    result: dict[int, str] = {}
    for entry in text.split(","):
        entry = entry.strip()
        if entry:
            item, _, value = entry.partition("=")
            result[int(item.strip())] = value.strip()
    return result


@dataclass(frozen=True)
class TaskId:
    """``{job}@-@{item}@-@{READY|FAILOVER}@-@{agentId}@-@{uuid}``: the original's format, parsed strictly."""

    job_name: str
    sharding_item: int
    task_type: TaskType
    agent_id: str
    uuid: str

    def __str__(self) -> str:
        return DELIMITER.join(
            [self.job_name, str(self.sharding_item), self.task_type.value, self.agent_id, self.uuid]
        )

    @property
    def meta_info(self) -> str:
        """``{job}@-@{item}``: the child name used under running and failover nodes."""
        return f"{self.job_name}{DELIMITER}{self.sharding_item}"

    @classmethod
    def parse(cls, text: str) -> TaskId:
        parts = text.split(DELIMITER)
        if len(parts) != 5:
            raise ValueError(f"task id {text!r} does not have 5 '{DELIMITER}'-separated parts")
        job, item, task_type, agent, uid = parts
        return cls(job, int(item), TaskType(task_type), agent, uid)


def executor_id(app_name: str, agent_id: str, version: str = "") -> str:
    """One executor per app per agent and per version of what the executor is started with:
    ``{appName}@-@{agentId}@-@{version}`` (the original's ``{appName}@-@{agentId}`` without a
    version). A Mesos master refuses a task whose ExecutorInfo differs from the running executor
    with the same ID (TASK_ERROR "ExecutorInfo is not compatible"), so an updated app gets a new
    executor ID while the old executor finishes its tasks. The app name stays the first part, so
    the original's parsing (sandbox lookup, app deletion) still finds every executor of an app."""
    base = f"{app_name}{DELIMITER}{agent_id}"
    return f"{base}{DELIMITER}{version}" if version else base
