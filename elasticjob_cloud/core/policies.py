"""Run policies of a job (issue #17): the optional fields the original does not have.

One table (``POLICY_FIELDS``) drives the model (``RunPolicy``), the wire schema (``PolicyFields``,
mixed into ``schemas.JobSchema``) and the stored JSON (``policy_to_wire``): adding a policy is one
row here plus its semantics. Every field is optional; a job without them has ``RunPolicy()`` and
behaves exactly as the original. The stored JSON carries a policy key only when it differs from its
default, so the original reads our records unchanged (it ignores unknown keys).

Semantics (the scheduler applies them, see ``mesos.launcher`` and ``mesos.deadlines``):

* ``priority``: when offers are short, pending runs of a higher priority are placed first; equal
  priority goes by the instant the run was queued (not by job name, the original's issue #1925).
* ``startingDeadlineSeconds``: a queued run that could not start within this many seconds of the
  instant it was queued is dropped, logged and recorded in the event trace (Kubernetes CronJob's
  field of the same name), instead of running late.
* ``timeLimitSeconds``: a shard running longer is killed and recorded as timed out
  (``mesos.overrun``; Kubernetes' ``activeDeadlineSeconds``, per shard).
* ``concurrencyPolicy``: FORBID (a run waits for the previous one: the original's behaviour) or
  REPLACE (the running tasks are killed, then the queued run starts). ALLOW is refused: a shard has
  one running record (``/state/running/{job}/{job}@-@{item}``, the original's layout), so two runs
  of a job cannot overlap without changing what the original reads.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from typing import Any

from marshmallow import ValidationError
from marshmallow.fields import Field, String

from .fields import Integer

MIN_PRIORITY, MAX_PRIORITY = -1_000_000, 1_000_000
MAX_DEADLINE_SECONDS = 366 * 24 * 3600


class ConcurrencyPolicy(enum.StrEnum):
    FORBID = "FORBID"
    REPLACE = "REPLACE"


@dataclass(frozen=True)
class RunPolicy:
    """A job's run policies; the defaults are today's behaviour."""

    priority: int = 0
    starting_deadline_seconds: int | None = None
    time_limit_seconds: int | None = None
    concurrency_policy: ConcurrencyPolicy = ConcurrencyPolicy.FORBID


@dataclass(frozen=True)
class PolicyField:
    wire: str  # the JSON key (REST and ZooKeeper)
    attr: str  # the ``RunPolicy`` attribute
    make: Callable[[], Field]  # its marshmallow field (``None`` on input means the default)
    load: Callable[[Any], Any] = lambda value: value  # loaded wire value → model value
    dump: Callable[[Any], Any] = lambda value: value  # model value → wire value


def _concurrency(value: str) -> None:
    if value == "ALLOW":
        raise ValidationError(
            "ALLOW is not supported: a shard has one running record (the original's layout), so runs "
            "of a job cannot overlap; use FORBID or REPLACE"
        )
    if value not in ConcurrencyPolicy.__members__:
        raise ValidationError(f"must be one of {', '.join(ConcurrencyPolicy)}, got {value[:40]!r}")


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
            # what is accepted (ALLOW is refused), and null: the document states exactly that
            metadata={"enum": [p.value for p in ConcurrencyPolicy if p.value != "ALLOW"] + [None]},
        ),
        load=ConcurrencyPolicy,
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
