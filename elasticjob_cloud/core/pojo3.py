"""The 3.x job body (``CloudJobConfigurationPOJO``) mapped onto this project's job fields.

3.x dropped ``jobType`` and ``jobClass``: its executor ran whatever job the app's own bootstrap
passed to ``JobBootstrap.execute``; a script job is one whose ``props`` carry
``script.command.line``, a dataflow job one with ``streaming.process``. Here every job names what
it runs, so a 3.x body maps to:

* SCRIPT when ``props['script.command.line']`` is given (that is the ``scriptCommandLine``);
* DATAFLOW when ``props['streaming.process']`` is given, SIMPLE otherwise, both with the
  ``jobClass`` the body adds (the one extension a 3.x client has to send);
* ``disabled: true`` registers the job disabled (one ZooKeeper transaction), ``overwrite: true``
  lets a register replace an existing job, as 3.x's registry did.

A field this scheduler cannot honour is refused (``InvalidConfig`` naming it), never dropped:
error, executor-service and sharding-strategy types other than the behaviour the executor has,
listeners, extra configurations, unknown ``props``. The lite-only fields 3.x's own cloud ignored
(``monitorExecution``, ``maxTimeDiffSeconds``, ``reconcileIntervalMinutes``) are accepted at their
defaults (what 3.x's own fixtures and builder write) and refused otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..exceptions import InvalidConfig

SCRIPT_PROP = "script.command.line"
STREAMING_PROP = "streaming.process"
# 3.x fields with no 2.x counterpart: any of them marks a 3.x body
POJO_ONLY = frozenset(
    {
        "props",
        "monitorExecution",
        "maxTimeDiffSeconds",
        "reconcileIntervalMinutes",
        "jobShardingStrategyType",
        "jobExecutorServiceHandlerType",
        "jobErrorHandlerType",
        "jobListenerTypes",
        "jobExtraConfigurations",
        "disabled",
        "overwrite",
    }
)
# value sets that mean "the behaviour this scheduler has" (None: the field is absent)
ACCEPTED: dict[str, tuple[tuple[Any, ...], str]] = {
    "jobErrorHandlerType": ((None, "", "LOG"), "the executor logs a failed shard and reports TASK_FAILED"),
    "jobExecutorServiceHandlerType": ((None, "", "CPU"), "each shard runs in its own process"),
    "jobShardingStrategyType": ((None, ""), "every shard is its own Mesos task, placed by the scheduler"),
    "maxTimeDiffSeconds": ((None, -1, 0), "no clock-skew check is made (3.x's cloud made none either)"),
    "reconcileIntervalMinutes": (
        (None, -1, 0, 10),
        "reconciliation is the scheduler's (reconcile_interval_minutes), not a job's",
    ),
}


@dataclass(frozen=True)
class MappedJob:
    body: dict[str, Any]  # the 2.x-form job body
    disabled: bool = False
    overwrite: bool = False


def is_pojo(body: Any) -> bool:
    """A 3.x body: one with a 3.x-only field. A 3.x client sends them all (the POJO's primitives and
    ``props`` are always serialised); a body with none of them is read as 2.x, which needs ``jobType``."""
    return isinstance(body, dict) and bool(POJO_ONLY & body.keys())


def _bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return None


def from_pojo(body: dict[str, Any]) -> MappedJob:
    """The 2.x-form body of a 3.x one; ``InvalidConfig`` names every field that cannot be honoured."""
    errors: dict[str, list[str]] = {}
    wire = {key: value for key, value in body.items() if key not in POJO_ONLY}  # 2.x fields pass as they are
    props = body.get("props") or {}
    if not isinstance(props, dict):
        errors["props"] = ["must be an object of string properties"]
        props = {}
    for key in sorted(set(props) - {SCRIPT_PROP, STREAMING_PROP}):
        errors.setdefault("props", []).append(
            f"'{key}' cannot be honoured: only {SCRIPT_PROP} and {STREAMING_PROP}"
        )
    script, streaming = props.get(SCRIPT_PROP), props.get(STREAMING_PROP)
    explicit_type = body.get("jobType")
    if script is not None and streaming is not None:
        errors["props"] = [
            f"{SCRIPT_PROP} (a script job) and {STREAMING_PROP} (a dataflow job) exclude each other"
        ]
    elif script is not None:
        wire.update(jobType="SCRIPT", scriptCommandLine=str(script))
    elif streaming is not None:
        flag = _bool(streaming)
        if flag is None:
            errors.setdefault("props", []).append(f"{STREAMING_PROP} must be true or false")
        wire.update(jobType="DATAFLOW", streamingProcess=bool(flag))
    elif explicit_type:
        wire["jobType"] = explicit_type
    elif str(body.get("jobClass") or "").strip():
        wire["jobType"] = "SIMPLE"
    else:
        errors["jobClass"] = [
            "missing: a 3.x body names no job class (3.x took it from the app's own bootstrap);"
            f" give jobClass for a SIMPLE job (with props {STREAMING_PROP} for a DATAFLOW job),"
            f" or props {SCRIPT_PROP} for a script job"
        ]
    for key, (allowed, why) in ACCEPTED.items():
        value = body.get(key)
        if isinstance(value, bool) or not any(value == ok and type(value) is type(ok) for ok in allowed):
            errors[key] = [f"{value!r} cannot be honoured: {why}"]
    for key in ("jobListenerTypes", "jobExtraConfigurations"):
        if body.get(key):
            errors[key] = ["cannot be honoured: job listeners and extra configurations run in 3.x's JVM only"]
    if "monitorExecution" in body and _bool(body["monitorExecution"]) is None:
        errors["monitorExecution"] = ["must be true or false"]
    flags = {}
    for key in ("disabled", "overwrite"):
        flags[key] = _bool(body.get(key, False))
        if flags[key] is None:
            errors[key] = ["must be true or false"]
    if errors:
        summary = "; ".join(f"{key}: {' '.join(problems)}" for key, problems in errors.items())
        raise InvalidConfig(f"invalid 3.x job configuration: {summary}", errors)
    return MappedJob(wire, bool(flags["disabled"]), bool(flags["overwrite"]))
