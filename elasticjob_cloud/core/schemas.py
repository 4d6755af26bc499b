"""Wire format of apps and jobs (REST bodies and ZooKeeper JSON): names, order, validation.

Validation happens here, at registration, so nothing invalid is ever stored (the original let
bad values through and broke its launch loop). Values are taken as sent or refused, never
coerced (``core.fields``): numbers sent as numeric strings are accepted, as the original's console
sends them; unknown fields are ignored. Every bound (``core.limits``) is also in the field's
metadata, so the OpenAPI document states what the server enforces. Field declaration order is the
original's stored JSON order.
"""

from __future__ import annotations

import re
from typing import Any

from marshmallow import EXCLUDE, Schema, ValidationError, fields, post_load, validates_schema

from ..exceptions import InvalidConfig
from . import limits
from .cron import validate_cron, validate_time_zone
from .dependencies import NEVER_CRON
from .fields import Boolean, Integer, Number, Text, input_bounds_apply, stored_records
from .models import DEFAULT_JOB_PROPERTIES, AppConfig, ExecutionType, JobConfig, JobType
from .names import NAME_MAX_LENGTH, NAME_REGEX, RESERVED_NAMES, name_problem, shown
from .policies import ConcurrencyPolicy, PolicyFields, policy_from_wire, policy_to_wire


def _name_field(field: str) -> fields.String:
    """The one name rule (``core.names``), with the reserved names folded into the pattern."""
    reserved = "".join(f"(?!{word}$)" for word in sorted(RESERVED_NAMES.get(field, ())))

    def check(value: str) -> None:
        problem = name_problem(value, field, reserved=input_bounds_apply())
        if problem is not None:
            raise ValidationError(problem)

    return fields.String(
        required=True,
        validate=check,
        metadata={"pattern": "^" + reserved + NAME_REGEX[1:], "maxLength": NAME_MAX_LENGTH},
    )


def _text(name: str, **kwargs: Any) -> Text:
    return Text(max_length=limits.TEXT_LIMITS[name], **kwargs)


_PORT = r"(?:[0-9]|[1-9][0-9]{1,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])"
_H = "[0-9A-Fa-f]{1,4}"
# An IPv6 address in hexadecimal groups, "::" compressed or not (RFC 4291 2.2, forms 1 and 2): what a
# bracketed host must be for urllib (and so the executor's fetch) to read the URL at all.
_IPV6 = "|".join(
    [
        rf"(?:{_H}:){{7}}{_H}",
        rf"(?:{_H}:){{1,7}}:",
        *(rf"(?:{_H}:){{1,{7 - n}}}(?::{_H}){{{n}}}" for n in range(1, 7)),
        rf":(?:(?::{_H}){{1,7}}|:)",
    ]
)
_HOST = rf"(?:[A-Za-z0-9._~-]+|\[(?:{_IPV6})\])"
_USER = "[-A-Za-z0-9._~%!$&'()*+,;=:]+"  # RFC 3986 userinfo: no '/', '?', '#', '[', ']' or '@'
# A file URL's path: file:/p, file:///p or file://localhost/p (no other host: "file://h]" is no URL).
_FILE = "file:(?:/|///|//localhost/)(?:[!-.0-~][!-~]*)?"
# An http(s) URL with a host (and optional user, port, path), or a file URL; printable ASCII only
# (percent-encode the rest). The OpenAPI document states the very same pattern.
APP_URL_PATTERN = rf"^(?:https?://(?:{_USER}@)?{_HOST}(?::{_PORT})?(?:[/?#][!-~]*)?|{_FILE})$"
_APP_URL = re.compile(APP_URL_PATTERN)
# What input was held to before the pattern above (it let "http://[AbCe]/", a user with "?" or a
# final line break through): a record stored then still loads, so no app silently vanishes.
_STORED_APP_URL = re.compile(
    rf"^(?:https?://(?:[!-.0-?A-~]+@)?(?:[A-Za-z0-9._~-]+|\[[0-9A-Fa-f:.]+\])(?::{_PORT})?(?:[/?#][!-~]*)?|file:/[!-~]*)$"
)


def check_app_url(value: str) -> None:
    if not input_bounds_apply():  # reading a stored record
        if _STORED_APP_URL.match(value):
            return
    elif _APP_URL.fullmatch(value):  # not match: "$" also matches before a final line break
        return
    raise ValidationError(
        f"must be an http or https URL with a host (an IPv6 one in brackets), or a file: URL, in printable"
        f" ASCII; got {shown(value)}"
    )


NONBLANK = "[^ \t\r\n]"  # a character other than a space, tab or line break (the document says the same)


NONBLANK_TEXT = "^[^\\x00]*[^\\x00 \t\r\n][^\\x00]*$"  # the same, and no NUL anywhere


def _nonblank(value: str) -> None:
    if not re.search(NONBLANK, value):
        raise ValidationError("must not be empty")


def sharding_item_parameter_errors(text: str, total: int | None) -> list[str]:
    """Errors of ``item=value[,item=value…]``: integer items in ``[0, total)``, no duplicates."""
    errors: list[str] = []
    seen: set[int] = set()
    for raw in text.split(","):
        entry = raw.strip()
        item, sep, value = entry.partition("=")
        if not sep or not value.strip() or "=" in value:
            errors.append(f"entry {shown(entry)} must look like item=value")
            continue
        item = item.strip()
        if not (item.isascii() and item.lstrip("-").isdigit() and len(item) <= 6):
            errors.append(f"item {shown(item)} is not an integer")
            continue
        number = int(item)
        if number < 0 or (total is not None and number >= total):
            errors.append(f"item {number} must be >= 0 and < shardingTotalCount ({total})")
        elif number in seen:
            errors.append(f"item {number} is given twice")
        seen.add(number)
        if len(errors) >= 10:
            errors.append("…")
            break
    return errors


class _Base(Schema):
    class Meta:
        unknown = EXCLUDE


def to_invalid_config(error: ValidationError, what: str) -> InvalidConfig:
    """Field messages keyed by wire name; a nested field as ``jobProperties.job_exception_handler``,
    a nested object's own error under its field (``jobProperties``), never a bare ``_schema``."""
    messages = error.messages if isinstance(error.messages, dict) else {"_schema": error.messages}
    flat: dict[str, list[str]] = {}
    _flatten(messages, "", flat)
    summary = "; ".join(f"{key}: {' / '.join(values)}" for key, values in flat.items())
    return InvalidConfig(f"invalid {what} configuration: {summary}", flat)


def _flatten(messages: Any, prefix: str, flat: dict[str, list[str]]) -> None:
    for key, value in messages.items():
        name = str(key)
        if prefix:
            name = prefix if name == "_schema" else f"{prefix}.{name}"
        if isinstance(value, dict):
            _flatten(value, name, flat)
        else:
            flat.setdefault(name, []).extend(str(v) for v in (value if isinstance(value, list) else [value]))


class AppSchema(_Base):
    appName = _name_field("appName")
    appURL = _text("appURL", required=True, validate=check_app_url, metadata={"pattern": APP_URL_PATTERN})
    bootstrapScript = _text(
        "bootstrapScript", required=True, validate=_nonblank, metadata={"pattern": NONBLANK_TEXT}
    )
    cpuCount = Number(load_default=1.0, minimum=limits.MIN_CPU_COUNT, maximum=limits.MAX_CPU_COUNT)
    memoryMB = Number(load_default=128.0, minimum=limits.MIN_MEMORY_MB, maximum=limits.MAX_MEMORY_MB)
    appCacheEnable = Boolean(load_default=True)
    eventTraceSamplingCount = Integer(
        load_default=0, minimum=0, maximum=limits.MAX_EVENT_TRACE_SAMPLING_COUNT
    )

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
    job_exception_handler = _text(
        "job_exception_handler", load_default=DEFAULT_JOB_PROPERTIES["job_exception_handler"]
    )
    executor_service_handler = _text(
        "executor_service_handler", load_default=DEFAULT_JOB_PROPERTIES["executor_service_handler"]
    )


class JobSchema(PolicyFields, _Base):
    jobName = _name_field("jobName")
    jobClass = _text("jobClass", load_default="")
    jobType = fields.Enum(JobType, required=True)
    # required unless the job has ``dependsOn``: then it may run only when its upstreams completed
    cron = _text("cron", load_default=None, allow_none=False)
    shardingTotalCount = Integer(required=True, minimum=1, maximum=limits.MAX_SHARDING_TOTAL_COUNT)
    shardingItemParameters = _text("shardingItemParameters", load_default="")
    jobParameter = _text("jobParameter", load_default="")
    failover = Boolean(load_default=False)
    misfire = Boolean(load_default=False)
    description = _text("description", load_default="")
    jobProperties = fields.Nested(
        JobPropertiesSchema,
        load_default=lambda: dict(DEFAULT_JOB_PROPERTIES),
        error_messages={"type": "must be an object of handler class names"},
    )
    streamingProcess = Boolean(load_default=False)
    scriptCommandLine = _text("scriptCommandLine", load_default="")
    appName = _name_field("appName")
    cpuCount = Number(required=True, minimum=limits.MIN_CPU_COUNT, maximum=limits.MAX_CPU_COUNT)
    memoryMB = Number(required=True, minimum=limits.MIN_MEMORY_MB, maximum=limits.MAX_MEMORY_MB)
    jobExecutionType = fields.Enum(ExecutionType, required=True)
    beanName = _text("beanName", load_default=None, allow_none=True)
    applicationContext = _text("applicationContext", load_default=None, allow_none=True)
    timeZone = _text("timeZone", load_default=None, allow_none=True)
    dockerImageName = _text("dockerImageName", load_default=None, allow_none=True)

    @validates_schema(skip_on_field_errors=False, pass_original=True)
    def check_rules(self, data: dict[str, Any], original: Any = None, **kwargs: Any) -> None:
        errors: dict[str, list[str]] = {}
        cron, upstreams = data.get("cron"), data.get("dependsOn") or ()
        given = isinstance(original, dict) and bool(original.get("dependsOn"))  # refused on its own
        if cron is None and not upstreams and not given and not self.partial:
            errors["cron"] = ["Missing data for required field."]
        elif isinstance(cron, str) and (cron.strip() or not (upstreams or self.partial)):
            # a partial update's empty cron is judged with the stored fields (its stored dependsOn)
            try:
                validate_cron(cron)
            except InvalidConfig as exc:
                errors.update(exc.errors)
        if upstreams and data.get("jobExecutionType") is ExecutionType.DAEMON:
            errors["dependsOn"] = ["a DAEMON job runs all the time: it cannot wait for other jobs"]
        overlapping = data.get("concurrencyPolicy") == ConcurrencyPolicy.ALLOW.value
        if overlapping and data.get("jobExecutionType") is ExecutionType.DAEMON:
            errors["concurrencyPolicy"] = [
                "ALLOW is for TRANSIENT jobs: a DAEMON job's shards run all the time"
            ]
        if data.get("timeZone"):
            try:
                validate_time_zone(data["timeZone"])
            except InvalidConfig as exc:
                errors.update(exc.errors)
        # A field that failed its own check is absent from ``data``: no second message for it.
        job_type = data.get("jobType")
        if job_type in (JobType.SIMPLE, JobType.DATAFLOW) and not re.search(
            NONBLANK, data.get("jobClass", "x")
        ):
            errors["jobClass"] = [f"is required for {job_type.value} jobs"]
        if job_type is JobType.SCRIPT and not re.search(NONBLANK, data.get("scriptCommandLine", "x")):
            errors["scriptCommandLine"] = ["is required for SCRIPT jobs"]
        both_given = "beanName" in data and "applicationContext" in data  # a partial load may lack them
        if both_given and bool(data.get("beanName")) != bool(data.get("applicationContext")):
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
            cron=(data["cron"] or "").strip() or NEVER_CRON,  # NEVER_CRON: dependencies only
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
            policy=policy_from_wire(data),
        )


class _AppChanges(AppSchema):
    """The fields of a partial update, each checked on its own (the rules that join fields run on
    the merged record)."""

    @post_load
    def make(self, data: dict[str, Any], **kwargs: Any) -> Any:
        return data


class _JobChanges(JobSchema):
    @post_load
    def make(self, data: dict[str, Any], **kwargs: Any) -> Any:
        return data


_APP = AppSchema()
_JOB = JobSchema()
_APP_CHANGES = _AppChanges(partial=True)
_JOB_CHANGES = _JobChanges(partial=True)


def load_app_changes(body: dict[str, Any]) -> dict[str, Any]:
    try:
        return dict(_APP_CHANGES.load(body))
    except ValidationError as error:
        raise to_invalid_config(error, "app") from None


def load_job_changes(body: dict[str, Any]) -> dict[str, Any]:
    try:
        return dict(_JOB_CHANGES.load(body))
    except ValidationError as error:
        raise to_invalid_config(error, "job") from None


def load_app(body: Any) -> AppConfig:
    """An app from a request body: every rule and bound checked; InvalidConfig naming each field."""
    _require_object(body, "app")
    try:
        return _APP.load(body)
    except ValidationError as error:
        raise to_invalid_config(error, "app") from None


def load_job(body: Any) -> JobConfig:
    _require_object(body, "job")
    try:
        return _JOB.load(body)
    except ValidationError as error:
        raise to_invalid_config(error, "job") from None


def load_stored_app(body: Any) -> AppConfig:
    """An app as stored: the input bounds (lengths, maxima) are not applied (``core.fields``)."""
    with stored_records():
        return load_app(body)


def load_stored_job(body: Any) -> JobConfig:
    with stored_records():
        return load_job(body)


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
    wire.update(policy_to_wire(job.policy))  # extra keys only when set: the original ignores them
    return wire
