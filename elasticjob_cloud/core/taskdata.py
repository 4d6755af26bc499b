"""What the scheduler hands the executor: ``TaskInfo.data`` and ``ExecutorInfo.data``, as JSON.

Both sides import this module, so the wire format lives in one place. It is pure: dataclasses,
JSON and base64 only (the same encoding as ``pymesos.encode_data``: standard base64 of UTF-8
JSON). Decoding validates every field and raises :class:`InvalidConfig` with a message per field,
because a malformed task must fail that task, not the executor.

Outcome marker
    A task that ran and failed (the job raised, the script exited non-zero, the app could not be
    fetched or the job class could not be loaded) is reported ``TASK_FAILED`` with a ``message``
    that starts with :data:`JOB_FAILURE_PREFIX`. The scheduler uses :func:`is_job_failure` to tell
    such a *job failure* (the executor is healthy and says why) from a lost task. A DAEMON task
    reports a failed execution as ``TASK_RUNNING`` with the same prefix instead of ``COMPLETE``:
    the task keeps running and the execution is over.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from elasticjob_cloud.exceptions import InvalidConfig

JOB_FAILURE_PREFIX = "JOB_FAILURE: "

ENV_TASK_DATA = "ELASTICJOB_CLOUD_TASK_DATA"
ENV_APP_DATA = "ELASTICJOB_CLOUD_APP_DATA"
"""A command task's ``TaskInfo.data`` and app data, in its command's environment (no executor hands
them over): the executor program runs it (``elasticjob_cloud.executor.command_task``)."""
ENV_CHUNK = 65_536
"""Linux refuses to start a program with one environment string over 128 KiB (``MAX_ARG_STRLEN``),
and a task's data may be larger (32 K characters of non-ASCII ``jobParameter`` are 192 KB of JSON):
longer values are cut into ``NAME``, ``NAME_1``, ``NAME_2`` ... of at most this many characters."""


def env_chunks(name: str, value: str) -> list[tuple[str, str]]:
    """``value`` as environment variables of at most :data:`ENV_CHUNK` characters each."""
    parts = [value[i : i + ENV_CHUNK] for i in range(0, len(value), ENV_CHUNK)] or [""]
    return [(name if i == 0 else f"{name}_{i}", part) for i, part in enumerate(parts)]


def env_joined(environ: Mapping[str, str], name: str) -> str:
    """The value :func:`env_chunks` cut into pieces, whole again."""
    parts = [environ.get(name, "")]
    while (part := environ.get(f"{name}_{len(parts)}")) is not None:
        parts.append(part)
    return "".join(parts)


"""``TaskStatus.message`` prefix of a task (or DAEMON execution) that ran and failed."""

DAEMON_BEGIN = "BEGIN"
DAEMON_COMPLETE = "COMPLETE"
"""``TASK_RUNNING`` messages around each traced DAEMON execution (the original's protocol)."""

STOP_MESSAGE = "STOP"
"""Framework message that makes the executor kill its tasks and exit (app deletion)."""

JOB_TYPES = ("SIMPLE", "DATAFLOW", "SCRIPT")
EXECUTION_TYPES = ("TRANSIENT", "DAEMON")
MESSAGE_LIMIT = 1000


def task_dir_name(task_id: str) -> str:
    """Where a task keeps its files in its sandbox: ``tasks/{this}/`` (``stdout``, ``stderr``, …).

    The executor writes there and the scheduler reads the files back through the agent."""
    return re.sub(r"[^A-Za-z0-9@._,=-]", "_", task_id)[:200] or "task"


def job_failure_message(detail: str) -> str:
    """A short ``TaskStatus.message`` for a job failure: prefix + the first line(s) of ``detail``."""
    text = " ".join(detail.split())
    if len(text) > MESSAGE_LIMIT:
        text = text[: MESSAGE_LIMIT - 3] + "..."
    return JOB_FAILURE_PREFIX + text


def is_job_failure(message: str | None) -> bool:
    return bool(message) and str(message).startswith(JOB_FAILURE_PREFIX)


@dataclass(frozen=True)
class ShardingContexts:
    """The task's shards (normally one item) and the parameters each shard gets."""

    task_id: str
    job_name: str
    sharding_total_count: int
    job_parameter: str = ""
    sharding_item_parameters: Mapping[int, str] = field(default_factory=dict)
    job_event_sampling_count: int = 0

    @property
    def sharding_items(self) -> list[int]:
        return sorted(self.sharding_item_parameters)


@dataclass(frozen=True)
class JobConfigContext:
    """The job's configuration as far as the executor needs it."""

    job_name: str
    job_type: str
    job_execution_type: str = "TRANSIENT"
    job_class: str = ""
    cron: str = ""
    time_zone: str = ""
    misfire: bool = True
    streaming_process: bool = False
    script_command_line: str = ""
    bean_name: str = ""
    application_context: str = ""
    job_properties: Mapping[str, str] = field(default_factory=dict)

    @property
    def is_daemon(self) -> bool:
        return self.job_execution_type == "DAEMON"


@dataclass(frozen=True)
class TaskData:
    sharding_context: ShardingContexts
    job_config: JobConfigContext


@dataclass(frozen=True)
class AppData:
    """The app, carried in ``ExecutorInfo.data`` (one executor per app per agent)."""

    app_name: str
    app_url: str
    bootstrap_script: str
    app_cache_enable: bool = True
    event_trace_sampling_count: int = 0
    executor_idle_timeout_seconds: float = 0.0


# -- encoding -------------------------------------------------------------------------------------


def compact_json(value: Any) -> str:
    """The JSON text every ``data`` field carries (compact, ASCII-escaped)."""
    return json.dumps(value, separators=(",", ":"))


def b64_text(text: str) -> str:
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def _b64(document: Mapping[str, Any]) -> str:
    return b64_text(compact_json(document))


def encode_task_data(data: TaskData) -> str:
    return b64_text(task_data_json(data))


def task_data_json(data: TaskData) -> str:
    """``TaskInfo.data`` before base64 (``taskinfo.TaskInfos`` splices task IDs into it)."""
    sc, jc = data.sharding_context, data.job_config
    return compact_json(
        {
            "shardingContext": {
                "taskId": sc.task_id,
                "jobName": sc.job_name,
                "shardingTotalCount": sc.sharding_total_count,
                "jobParameter": sc.job_parameter,
                "shardingItemParameters": {str(k): v for k, v in sorted(sc.sharding_item_parameters.items())},
                "jobEventSamplingCount": sc.job_event_sampling_count,
            },
            "jobConfigContext": {
                "jobName": jc.job_name,
                "jobType": jc.job_type,
                "jobExecutionType": jc.job_execution_type,
                "jobClass": jc.job_class,
                "cron": jc.cron,
                "timeZone": jc.time_zone,
                "misfire": jc.misfire,
                "streamingProcess": jc.streaming_process,
                "scriptCommandLine": jc.script_command_line,
                "beanName": jc.bean_name,
                "applicationContext": jc.application_context,
                "jobProperties": dict(jc.job_properties),
            },
        }
    )


def encode_app_data(app: AppData) -> str:
    return _b64(
        {
            "appName": app.app_name,
            "appURL": app.app_url,
            "bootstrapScript": app.bootstrap_script,
            "appCacheEnable": app.app_cache_enable,
            "eventTraceSamplingCount": app.event_trace_sampling_count,
            "executorIdleTimeoutSeconds": app.executor_idle_timeout_seconds,
        }
    )


# -- decoding -------------------------------------------------------------------------------------


def _document(data: str | bytes, what: str) -> Mapping[str, Any]:
    if not data:
        raise InvalidConfig.field(what, "is empty")
    try:
        raw = base64.b64decode(data, validate=True)
        document = json.loads(raw.decode("utf-8"))
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise InvalidConfig.field(what, f"is not base64 JSON ({exc})") from None
    if not isinstance(document, dict):
        raise InvalidConfig.field(what, "is not a JSON object")
    return document


_REQUIRED: Any = object()


class _Reader:
    """Typed field access that collects every error, so one message lists all bad fields."""

    def __init__(self, document: Mapping[str, Any], prefix: str):
        self.document = document
        self.prefix = prefix
        self.errors: dict[str, list[str]] = {}

    def bad(self, key: str, message: str) -> None:
        self.errors.setdefault(f"{self.prefix}{key}", []).append(message)

    def _get(self, key: str, default: Any) -> Any:
        if key not in self.document or self.document[key] is None:
            if default is _REQUIRED:
                self.bad(key, "is required")
            return default
        return self.document[key]

    def text(self, key: str, default: Any = "") -> str:
        value = self._get(key, default)
        if not isinstance(value, str):
            if value is not _REQUIRED:
                self.bad(key, "must be a string")
            return ""
        return value

    def integer(self, key: str, default: Any = 0, minimum: int = 0) -> int:
        value = self._get(key, default)
        if isinstance(value, str) and value.strip().lstrip("-").isdigit():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            if value is not _REQUIRED:
                self.bad(key, "must be an integer")
            return minimum
        if value < minimum:
            self.bad(key, f"must be >= {minimum}")
        return value

    def number(self, key: str, default: float = 0.0) -> float:
        value = self._get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.bad(key, "must be a number")
            return default
        return float(value)

    def boolean(self, key: str, default: bool) -> bool:
        value = self._get(key, default)
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        if not isinstance(value, bool):
            self.bad(key, "must be a boolean")
            return default
        return value

    def choice(self, key: str, choices: tuple[str, ...], default: Any = _REQUIRED) -> str:
        value = self.text(key, default)
        if value and value not in choices:
            self.bad(key, f"must be one of {', '.join(choices)}")
        return value

    def obj(self, key: str) -> Mapping[str, Any]:
        value = self._get(key, _REQUIRED)
        if not isinstance(value, dict):
            if value is not _REQUIRED:
                self.bad(key, "must be a JSON object")
            return {}
        return value

    def string_map(self, key: str) -> dict[str, str]:
        value = self.document.get(key) or {}
        if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
            self.bad(key, "must map strings to strings")
            return {}
        return {str(k): v for k, v in value.items()}

    def item_parameters(self, key: str) -> dict[int, str]:
        result: dict[int, str] = {}
        for item, value in self.string_map(key).items():
            if item.strip().isdigit():
                result[int(item)] = value
            else:
                self.bad(key, f"key {item!r} is not a non-negative integer")
        return result


def _raise_if(errors: dict[str, list[str]], what: str) -> None:
    if errors:
        summary = "; ".join(f"{name} {' / '.join(msgs)}" for name, msgs in sorted(errors.items()))
        raise InvalidConfig(f"invalid {what}: {summary}", errors)


def decode_task_data(data: str | bytes) -> TaskData:
    document = _document(data, "taskData")
    top = _Reader(document, "")
    sharding = _Reader(top.obj("shardingContext"), "shardingContext.")
    config = _Reader(top.obj("jobConfigContext"), "jobConfigContext.")
    _raise_if(top.errors, "task data")
    sc = ShardingContexts(
        task_id=sharding.text("taskId", _REQUIRED),
        job_name=sharding.text("jobName", _REQUIRED),
        sharding_total_count=sharding.integer("shardingTotalCount", _REQUIRED, minimum=1),
        job_parameter=sharding.text("jobParameter"),
        sharding_item_parameters=sharding.item_parameters("shardingItemParameters"),
        job_event_sampling_count=sharding.integer("jobEventSamplingCount"),
    )
    jc = JobConfigContext(
        job_name=config.text("jobName", sc.job_name),
        job_type=config.choice("jobType", JOB_TYPES),
        job_execution_type=config.choice("jobExecutionType", EXECUTION_TYPES, "TRANSIENT") or "TRANSIENT",
        job_class=config.text("jobClass"),
        cron=config.text("cron"),
        time_zone=config.text("timeZone"),
        misfire=config.boolean("misfire", True),
        streaming_process=config.boolean("streamingProcess", False),
        script_command_line=config.text("scriptCommandLine"),
        bean_name=config.text("beanName"),
        application_context=config.text("applicationContext"),
        job_properties=config.string_map("jobProperties"),
    )
    if not sc.sharding_item_parameters and "shardingContext.shardingItemParameters" not in sharding.errors:
        sharding.bad("shardingItemParameters", "must name at least one sharding item")
    for item in sc.sharding_item_parameters:
        if sc.sharding_total_count and item >= sc.sharding_total_count:
            sharding.bad(
                "shardingItemParameters",
                f"item {item} is not below shardingTotalCount {sc.sharding_total_count}",
            )
    has_bean = bool(jc.bean_name and jc.application_context)
    if jc.job_type in ("SIMPLE", "DATAFLOW") and not jc.job_class and not has_bean:
        config.bad("jobClass", "is required for SIMPLE and DATAFLOW jobs")
    if jc.is_daemon and not jc.cron:
        config.bad("cron", "is required for DAEMON jobs")
    _raise_if({**sharding.errors, **config.errors}, "task data")
    return TaskData(sc, jc)


def decode_app_data(data: str | bytes) -> AppData:
    reader = _Reader(_document(data, "appData"), "")
    app = AppData(
        app_name=reader.text("appName", _REQUIRED),
        app_url=reader.text("appURL", _REQUIRED),
        bootstrap_script=reader.text("bootstrapScript", ""),
        app_cache_enable=reader.boolean("appCacheEnable", True),
        event_trace_sampling_count=reader.integer("eventTraceSamplingCount"),
        executor_idle_timeout_seconds=reader.number("executorIdleTimeoutSeconds"),
    )
    if not app.app_url and "appURL" not in reader.errors:
        reader.bad("appURL", "must not be empty")
    _raise_if(reader.errors, "app data")
    return app
