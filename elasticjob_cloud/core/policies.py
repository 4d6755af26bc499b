"""Run policies of a job (issue #17): the optional fields the original does not have.

One table (``POLICY_FIELDS``) drives the model (``RunPolicy``), the wire schema (``PolicyFields``,
mixed into ``schemas.JobSchema``) and the stored JSON (``policy_to_wire``): adding a policy is one
row here plus its semantics. Every field is optional; a job without them has ``RunPolicy()`` and
behaves exactly as the original. The stored JSON carries a policy key only when it differs from its
default, so the original reads our records unchanged (it ignores unknown keys).

Semantics (the scheduler applies them, see ``core.planning`` and ``mesos.queued``):

* ``priority``: when offers are short, pending runs of a higher priority are placed first; equal
  priority goes by the instant the run was queued (not by job name, the original's issue #1925).
* ``startingDeadlineSeconds``: a queued run that could not start within this many seconds of the
  instant it was queued is dropped, logged and recorded in the event trace (Kubernetes CronJob's
  field of the same name), instead of running late.
* ``timeLimitSeconds``: a shard running longer is killed and recorded as timed out
  (``mesos.overrun``; Kubernetes' ``activeDeadlineSeconds``, per shard).
* ``concurrencyPolicy``: FORBID (a run waits for the previous one: the original's behaviour),
  REPLACE (the running tasks are killed, then the queued run starts) or ALLOW (a queued run starts
  beside the running ones). A shard's task is recorded as the original does
  (``/state/running/{job}/{job}@-@{item}``); a task of an overlapping run under its task ID, a name
  the original reads as the same shard (``core.ports.RunningEntry``). Not for DAEMON jobs (they run
  all the time), nor for jobs others depend on (a run's completion would be ambiguous).
* ``retry``: ``{maxRetries, initialBackoffSeconds, maxBackoffSeconds}``: a shard whose job failed
  (or hit its time limit) runs again after ``retry_delay`` (``mesos.retries``); lost tasks stay
  failover's business.
* ``dependsOn`` / ``dependencyPolicy``: the jobs whose completed runs queue a run of this one
  (``core.dependencies``; the registry checks that they exist and make no cycle).
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from typing import Any

from marshmallow import EXCLUDE, Schema, ValidationError, post_load, validates_schema
from marshmallow.fields import Field, List, Nested, String

from .dependencies import MAX_UPSTREAMS, DependencyPolicy
from .fields import Integer, Number
from .names import NAME_MAX_LENGTH, NAME_REGEX, name_problem

MIN_PRIORITY, MAX_PRIORITY = -1_000_000, 1_000_000
MAX_DEADLINE_SECONDS = 366 * 24 * 3600
MAX_RETRIES = 100
MAX_BACKOFF_SECONDS = 24 * 3600
RETRY_JITTER = 0.2  # a retry waits up to this fraction less than its exponential delay


@dataclass(frozen=True)
class RetryPolicy:
    max_retries: int
    initial_backoff_seconds: float = 10.0
    max_backoff_seconds: float = 360.0


def retry_delay(policy: RetryPolicy, number: int, jitter: float) -> float:
    """Seconds before retry ``number`` (1-based): ``initial * 2^(number-1)`` capped at the maximum,
    less up to ``RETRY_JITTER`` of it (``jitter`` in [0, 1) picks how much), so shards failing together
    do not all come back in the same instant while each retry still waits longer than the last."""
    base = min(policy.initial_backoff_seconds * 2.0 ** min(number - 1, 60), policy.max_backoff_seconds)
    return base * (1.0 - RETRY_JITTER * (1.0 - min(max(jitter, 0.0), 1.0)))


class RetrySchema(Schema):
    class Meta:
        unknown = EXCLUDE

    maxRetries = Integer(required=True, minimum=1, maximum=MAX_RETRIES)
    initialBackoffSeconds = Number(
        load_default=10.0,
        minimum=0.0,
        maximum=MAX_BACKOFF_SECONDS,
        metadata={"description": "at most maxBackoffSeconds (360 when not given)"},
    )
    maxBackoffSeconds = Number(
        load_default=360.0,
        minimum=0.0,
        maximum=MAX_BACKOFF_SECONDS,
        metadata={"description": "at least initialBackoffSeconds (10 when not given)"},
    )

    @validates_schema
    def check_order(self, data: dict[str, Any], **kwargs: Any) -> None:
        initial, most = data.get("initialBackoffSeconds"), data.get("maxBackoffSeconds")
        if initial is not None and most is not None and most < initial:
            raise ValidationError({"maxBackoffSeconds": ["must be at least initialBackoffSeconds"]})

    @post_load
    def make(self, data: dict[str, Any], **kwargs: Any) -> RetryPolicy:
        # a partial update loads this nested object partially too: no required check, no defaults
        if "maxRetries" not in data:
            raise ValidationError({"maxRetries": ["Missing data for required field."]})
        return RetryPolicy(
            data["maxRetries"], data.get("initialBackoffSeconds", 10.0), data.get("maxBackoffSeconds", 360.0)
        )


def _retry_wire(policy: RetryPolicy) -> dict[str, Any]:
    return {
        "maxRetries": policy.max_retries,
        "initialBackoffSeconds": float(policy.initial_backoff_seconds),
        "maxBackoffSeconds": float(policy.max_backoff_seconds),
    }


class ConcurrencyPolicy(enum.StrEnum):
    FORBID = "FORBID"
    REPLACE = "REPLACE"
    ALLOW = "ALLOW"


@dataclass(frozen=True)
class RunPolicy:
    """A job's run policies; the defaults are today's behaviour."""

    priority: int = 0
    starting_deadline_seconds: int | None = None
    time_limit_seconds: int | None = None
    concurrency_policy: ConcurrencyPolicy = ConcurrencyPolicy.FORBID
    retry: RetryPolicy | None = None
    depends_on: tuple[str, ...] = ()
    dependency_policy: DependencyPolicy = DependencyPolicy.ALL_SUCCEEDED


@dataclass(frozen=True)
class PolicyField:
    wire: str  # the JSON key (REST and ZooKeeper)
    attr: str  # the ``RunPolicy`` attribute
    make: Callable[[], Field]  # its marshmallow field (``None`` on input means the default)
    load: Callable[[Any], Any] = lambda value: value  # loaded wire value → model value
    dump: Callable[[Any], Any] = lambda value: value  # model value → wire value


def _concurrency(value: str) -> None:
    if value not in ConcurrencyPolicy.__members__:
        raise ValidationError(f"must be one of {', '.join(ConcurrencyPolicy)}, got {value[:40]!r}")


def _upstream_name(value: str) -> None:
    problem = name_problem(value, "jobName", reserved=False)
    if problem is not None:
        raise ValidationError(f"{value[:60]!r}: {problem}")


def _upstreams(value: list[str]) -> None:
    if len(value) > MAX_UPSTREAMS:
        raise ValidationError(f"at most {MAX_UPSTREAMS} upstream jobs, got {len(value)}")
    twice = sorted({name for name in value if value.count(name) > 1})
    if twice:
        raise ValidationError(f"{', '.join(twice)[:200]} listed more than once")


def _dependency_policy(value: str) -> None:
    if value not in DependencyPolicy.__members__:
        raise ValidationError(f"must be one of {', '.join(DependencyPolicy)}, got {value[:40]!r}")


POLICY_FIELDS: tuple[PolicyField, ...] = (
    PolicyField(
        "priority",
        "priority",
        lambda: Integer(load_default=None, allow_none=True, minimum=MIN_PRIORITY, maximum=MAX_PRIORITY),
    ),
    PolicyField(
        "startingDeadlineSeconds",
        "starting_deadline_seconds",
        lambda: Integer(load_default=None, allow_none=True, minimum=1, maximum=MAX_DEADLINE_SECONDS),
    ),
    PolicyField(
        "timeLimitSeconds",
        "time_limit_seconds",
        lambda: Integer(load_default=None, allow_none=True, minimum=1, maximum=MAX_DEADLINE_SECONDS),
    ),
    PolicyField(
        "concurrencyPolicy",
        "concurrency_policy",
        lambda: String(
            load_default=None,
            allow_none=True,
            validate=_concurrency,
            metadata={"enum": [p.value for p in ConcurrencyPolicy] + [None]},
        ),
        load=ConcurrencyPolicy,
        dump=lambda policy: policy.value,
    ),
    PolicyField(
        "retry",
        "retry",
        lambda: Nested(
            RetrySchema,
            load_default=None,
            allow_none=True,
            error_messages={
                "type": "must be an object {maxRetries, initialBackoffSeconds, maxBackoffSeconds}"
            },
        ),
        dump=_retry_wire,
    ),
    PolicyField(
        "dependsOn",
        "depends_on",
        lambda: List(
            String(validate=_upstream_name, metadata={"pattern": NAME_REGEX, "maxLength": NAME_MAX_LENGTH}),
            load_default=None,
            allow_none=True,
            validate=_upstreams,
            metadata={"maxItems": MAX_UPSTREAMS, "uniqueItems": True},
        ),
        load=tuple,
        dump=list,
    ),
    PolicyField(
        "dependencyPolicy",
        "dependency_policy",
        lambda: String(
            load_default=None,
            allow_none=True,
            validate=_dependency_policy,
            metadata={"enum": [p.value for p in DependencyPolicy] + [None]},
        ),
        load=DependencyPolicy,
        dump=lambda policy: policy.value,
    ),
)

_DEFAULT = RunPolicy()
assert {f.attr for f in POLICY_FIELDS} == {f.name for f in fields(RunPolicy)}, "one row per policy"


class PolicyFields:
    """Mixed into ``JobSchema``: one marshmallow field per row of the table."""


for _row in POLICY_FIELDS:
    setattr(PolicyFields, _row.wire, _row.make())


def policy_from_wire(data: Mapping[str, Any]) -> RunPolicy:
    """The loaded schema data's policy keys → ``RunPolicy`` (absent or null: the default)."""
    values = {row.attr: row.load(data[row.wire]) for row in POLICY_FIELDS if data.get(row.wire) is not None}
    return RunPolicy(**values)


def policy_to_wire(policy: RunPolicy) -> dict[str, Any]:
    """Only the keys that differ from the default: a job without policies stores what the original does."""
    return {
        row.wire: row.dump(getattr(policy, row.attr))
        for row in POLICY_FIELDS
        if getattr(policy, row.attr) != getattr(_DEFAULT, row.attr)
    }
