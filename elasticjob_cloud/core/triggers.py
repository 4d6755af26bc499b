"""A trigger with parameters (issue #17): ``POST /api/job/trigger`` with ``{"jobName", "jobParameter",
"shardingItemParameters", "idempotencyKey"}`` queues one run that uses the given parameters instead
of the job's, named by a run ID.

The run ID is the last part of each of the run's task IDs (``{job}@-@{item}@-@READY@-@{agent}@-@
{runId}``, where an ordinary run has a fresh UUID), so the task data, the executor's logs and the
event trace all name it, and a script can follow its run with ``/api/job/executions``. The same
``idempotencyKey`` for the same job within ``IDEMPOTENCY_SECONDS`` answers the run it queued first
instead of queueing another.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any, TypeGuard

from marshmallow import EXCLUDE, Schema, ValidationError, fields

from ..exceptions import InvalidConfig
from . import limits
from .fields import Text

IDEMPOTENCY_SECONDS = 24 * 3600
IDEMPOTENCY_KEY_MAX = 256
PARAMETER_KEYS = ("jobParameter", "shardingItemParameters", "idempotencyKey")


@dataclass(frozen=True)
class TriggeredRun:
    """One queued run with its own parameters (``None``: the job's own)."""

    job_name: str
    run_id: str
    queued_at: float
    job_parameter: str | None = None
    sharding_item_parameters: str | None = None

    def to_json(self) -> bytes:
        wire: dict[str, Any] = {"runId": self.run_id, "queuedAt": self.queued_at}
        if self.job_parameter is not None:
            wire["jobParameter"] = self.job_parameter
        if self.sharding_item_parameters is not None:
            wire["shardingItemParameters"] = self.sharding_item_parameters
        return json.dumps(wire, separators=(",", ":"), ensure_ascii=False).encode()

    @classmethod
    def from_json(cls, job_name: str, data: bytes) -> TriggeredRun | None:
        """None for a record that cannot be read (logged by the caller, never fatal)."""
        try:
            wire = json.loads(data)
            run = cls(
                job_name,
                str(wire["runId"]),
                float(wire["queuedAt"]),
                wire.get("jobParameter"),
                wire.get("shardingItemParameters"),
            )
        except (ValueError, KeyError, TypeError):
            return None
        texts = (run.job_parameter, run.sharding_item_parameters)
        return run if all(t is None or isinstance(t, str) for t in texts) else None


def is_parameterised(body: Any) -> TypeGuard[dict[str, Any]]:
    """Whether a trigger body is the new form (the original's forms name only the job)."""
    return isinstance(body, dict) and any(key in body for key in PARAMETER_KEYS)


class _TriggerSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    jobName = fields.String(required=True)  # the name rule is the use case's (``lifecycle``)
    jobParameter = Text(max_length=limits.TEXT_LIMITS["jobParameter"], load_default=None, allow_none=True)
    shardingItemParameters = Text(
        max_length=limits.TEXT_LIMITS["shardingItemParameters"], load_default=None, allow_none=True
    )
    idempotencyKey = Text(max_length=IDEMPOTENCY_KEY_MAX, load_default=None, allow_none=True)


_SCHEMA = _TriggerSchema()


def load_trigger(body: dict[str, Any]) -> dict[str, Any]:
    """The body's fields, each checked (InvalidConfig naming every bad one)."""
    try:
        data: dict[str, Any] = _SCHEMA.load(body)
    except ValidationError as error:
        messages = error.messages if isinstance(error.messages, dict) else {"_schema": error.messages}
        flat = {str(k): [str(m) for m in (v if isinstance(v, list) else [v])] for k, v in messages.items()}
        summary = "; ".join(f"{k}: {' / '.join(v)}" for k, v in flat.items())
        raise InvalidConfig(f"invalid trigger: {summary}", flat) from None
    if data.get("idempotencyKey") is not None and not data["idempotencyKey"].strip():
        raise InvalidConfig.field("idempotencyKey", "must not be empty")
    return data


def key_digest(idempotency_key: str) -> str:
    """The node name of an idempotency key (any text, bounded: a hash)."""
    return hashlib.sha256(idempotency_key.encode("utf-8")).hexdigest()[:40]
