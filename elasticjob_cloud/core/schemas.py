"""Wire format of apps and jobs (REST bodies and ZooKeeper JSON): names, order, validation.

Validation happens here, at registration, so nothing invalid is ever stored (the original let
bad values through and broke its launch loop). Numbers sent as numeric strings are accepted, as
the original's console sends them; unknown fields are ignored. Field declaration order is the
original's stored JSON order.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from marshmallow import EXCLUDE, Schema, ValidationError, fields, post_load, validate, validates_schema

from ..exceptions import InvalidConfig
from .cron import validate_cron, validate_time_zone
from .models import DEFAULT_JOB_PROPERTIES, AppConfig, ExecutionType, JobConfig, JobType

NAME_PATTERN = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")
NAME_RULE = "must be 1-100 characters of A-Z a-z 0-9 _ . - (no '/', no '@-@')"
APP_URL_SCHEMES = ("http", "https", "file")


def check_name(value: str) -> None:
    """Names become ZooKeeper node names and parts of task IDs, so their alphabet is restricted."""
    if not NAME_PATTERN.match(value) or value in (".", ".."):
        raise ValidationError(NAME_RULE)


def check_app_url(value: str) -> None:
    parts = urlsplit(value)
    if parts.scheme not in APP_URL_SCHEMES:
        raise ValidationError(f"must be an http, https or file URL, got {value!r}")
    if parts.scheme in ("http", "https") and not parts.netloc:
        raise ValidationError("an http(s) URL needs a host")
    if parts.scheme == "file" and not parts.path:
        raise ValidationError("a file URL needs a path")


def _nonblank(value: str) -> None:
    if not value.strip():
        raise ValidationError("must not be empty")


def sharding_item_parameter_errors(text: str, total: int | None) -> list[str]:
    """Errors of ``item=value[,item=value…]``: integer items in ``[0, total)``, no duplicates."""
    errors: list[str] = []
    seen: set[int] = set()
    for raw in text.split(","):
        entry = raw.strip()
        item, sep, value = entry.partition("=")
        if not sep or not value.strip() or "=" in value:
            errors.append(f"entry {entry!r} must look like item=value")
            continue
        try:
            number = int(item.strip())
        except ValueError:
            errors.append(f"item {item.strip()!r} is not an integer")
            continue
        if number < 0 or (total is not None and number >= total):
            errors.append(f"item {number} must be >= 0 and < shardingTotalCount ({total})")
        elif number in seen:
            errors.append(f"item {number} is given twice")
        seen.add(number)
    return errors


class _Base(Schema):
    class Meta:
        unknown = EXCLUDE

    def handle_error(self, error: ValidationError, data: Any, *, many: bool, **kwargs: Any) -> None:
        raise to_invalid_config(error, self.__class__.__name__.removesuffix("Schema").lower())


def to_invalid_config(error: ValidationError, what: str) -> InvalidConfig:
    messages = error.messages if isinstance(error.messages, dict) else {"_schema": error.messages}
    flat: dict[str, list[str]] = {}
    for key, value in messages.items():
        flat[str(key)] = [str(v) for v in value] if isinstance(value, list) else [str(value)]
    summary = "; ".join(f"{key}: {' '.join(values)}" for key, values in flat.items())
    return InvalidConfig(f"invalid {what} configuration: {summary}", flat)


class AppSchema(_Base):
    appName = fields.String(required=True, validate=check_name)
    appURL = fields.String(required=True, validate=check_app_url)
    bootstrapScript = fields.String(required=True, validate=_nonblank)
    cpuCount = fields.Float(load_default=1.0, validate=validate.Range(min=0.001))
    memoryMB = fields.Float(load_default=128.0, validate=validate.Range(min=1))
    appCacheEnable = fields.Boolean(load_default=True)
    eventTraceSamplingCount = fields.Integer(load_default=0, validate=validate.Range(min=0))

    @post_load
    def make(self, data: dict[str, Any], **kwargs: Any) -> AppConfig:
        return AppConfig(
            app_name=data["appName"],
            app_url=data["appURL"],
            bootstrap_script=data["bootstrapScript"],
            cpu_count=data["cpuCount"],
            memory_mb=data["memoryMB"],
            app_cache_enable=data["appCacheEnable"],
            event_trace_sampling_count=data["eventTraceSamplingCount"],
        )


class JobPropertiesSchema(_Base):
    job_exception_handler = fields.String(load_default=DEFAULT_JOB_PROPERTIES["job_exception_handler"])
    executor_service_handler = fields.String(load_default=DEFAULT_JOB_PROPERTIES["executor_service_handler"])


class JobSchema(_Base):
    jobName = fields.String(required=True, validate=check_name)
    jobClass = fields.String(load_default="")
    jobType = fields.Enum(JobType, required=True)
    cron = fields.String(required=True)
    shardingTotalCount = fields.Integer(required=True, validate=validate.Range(min=1))
    shardingItemParameters = fields.String(load_default="")
    jobParameter = fields.String(load_default="")
    failover = fields.Boolean(load_default=False)
    misfire = fields.Boolean(load_default=False)
    description = fields.String(load_default="")
    jobProperties = fields.Nested(JobPropertiesSchema, load_default=lambda: dict(DEFAULT_JOB_PROPERTIES))
    streamingProcess = fields.Boolean(load_default=False)
    scriptCommandLine = fields.String(load_default="")
    appName = fields.String(required=True, validate=check_name)
    cpuCount = fields.Float(required=True, validate=validate.Range(min=0.001))
    memoryMB = fields.Float(required=True, validate=validate.Range(min=1))
    jobExecutionType = fields.Enum(ExecutionType, required=True)
    beanName = fields.String(load_default=None, allow_none=True)
    applicationContext = fields.String(load_default=None, allow_none=True)
    timeZone = fields.String(load_default=None, allow_none=True)
    dockerImageName = fields.String(load_default=None, allow_none=True)

    @validates_schema(skip_on_field_errors=False)
    def check_rules(self, data: dict[str, Any], **kwargs: Any) -> None:
        errors: dict[str, list[str]] = {}
        cron = data.get("cron")
        if isinstance(cron, str):
            try:
                validate_cron(cron)
            except InvalidConfig as exc:
                errors.update(exc.errors)
        if data.get("timeZone"):
            try:
                validate_time_zone(data["timeZone"])
            except InvalidConfig as exc:
                errors.update(exc.errors)
        job_type = data.get("jobType")
        if job_type in (JobType.SIMPLE, JobType.DATAFLOW) and not data.get("jobClass", "").strip():
            errors["jobClass"] = [f"is required for {job_type.value} jobs"]
        if job_type is JobType.SCRIPT and not data.get("scriptCommandLine", "").strip():
            errors["scriptCommandLine"] = ["is required for SCRIPT jobs"]
        if bool(data.get("beanName")) != bool(data.get("applicationContext")):
            missing = "applicationContext" if data.get("beanName") else "beanName"
            errors[missing] = ["beanName and applicationContext must be given together"]
        total = data.get("shardingTotalCount")
        parameters = data.get("shardingItemParameters") or ""
        if parameters.strip():
            problems = sharding_item_parameter_errors(parameters, total if isinstance(total, int) else None)
            if problems:
                errors["shardingItemParameters"] = problems
        if errors:
            raise ValidationError(errors)

    @post_load
    def make(self, data: dict[str, Any], **kwargs: Any) -> JobConfig:
        return JobConfig(
            job_name=data["jobName"],
            app_name=data["appName"],
            job_type=data["jobType"],
            execution_type=data["jobExecutionType"],
            cron=data["cron"].strip(),
            sharding_total_count=data["shardingTotalCount"],
            cpu_count=data["cpuCount"],
            memory_mb=data["memoryMB"],
            job_class=data["jobClass"],
            sharding_item_parameters=data["shardingItemParameters"],
            job_parameter=data["jobParameter"],
            failover=data["failover"],
            misfire=data["misfire"],
            description=data["description"],
            job_properties=dict(data["jobProperties"]),
            streaming_process=data["streamingProcess"],
            script_command_line=data["scriptCommandLine"],
            bean_name=data["beanName"] or None,
            application_context=data["applicationContext"] or None,
            time_zone=data["timeZone"] or None,
            docker_image_name=data["dockerImageName"] or None,
        )


_APP = AppSchema()
_JOB = JobSchema()


def load_app(body: Any) -> AppConfig:
    _require_object(body, "app")
    return _APP.load(body)


def load_job(body: Any) -> JobConfig:
    _require_object(body, "job")
    return _JOB.load(body)


def _require_object(body: Any, what: str) -> None:
    if not isinstance(body, dict):
        raise InvalidConfig(f"the {what} configuration must be a JSON object", {"_schema": ["not an object"]})


def app_to_wire(app: AppConfig) -> dict[str, Any]:
    return {
        "appName": app.app_name,
        "appURL": app.app_url,
        "bootstrapScript": app.bootstrap_script,
        "cpuCount": float(app.cpu_count),
        "memoryMB": float(app.memory_mb),
        "appCacheEnable": app.app_cache_enable,
        "eventTraceSamplingCount": app.event_trace_sampling_count,
    }


def job_to_wire(job: JobConfig) -> dict[str, Any]:
    """The original's stored order; type-specific and optional keys only where it writes them."""
    wire: dict[str, Any] = {
        "jobName": job.job_name,
        "jobClass": job.job_class,
        "jobType": job.job_type.value,
        "cron": job.cron,
        "shardingTotalCount": job.sharding_total_count,
        "shardingItemParameters": job.sharding_item_parameters,
        "jobParameter": job.job_parameter,
        "failover": job.failover,
        "misfire": job.misfire,
        "description": job.description,
        "jobProperties": {**DEFAULT_JOB_PROPERTIES, **job.job_properties},
    }
    if job.job_type is JobType.DATAFLOW:
        wire["streamingProcess"] = job.streaming_process
    if job.job_type is JobType.SCRIPT:
        wire["scriptCommandLine"] = job.script_command_line
    wire.update(
        appName=job.app_name,
        cpuCount=float(job.cpu_count),
        memoryMB=float(job.memory_mb),
        jobExecutionType=job.execution_type.value,
    )
    if job.bean_name is not None and job.application_context is not None:
        wire.update(beanName=job.bean_name, applicationContext=job.application_context)
    if job.time_zone is not None:
        wire["timeZone"] = job.time_zone
    if job.docker_image_name is not None:
        wire["dockerImageName"] = job.docker_image_name
    return wire
