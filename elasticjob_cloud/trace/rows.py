"""Trace rows as plain values: what the recorder produces, the writer queues and journals, the store
writes. IDs are derived from what the row describes (task, state, status update), so a row written
twice (a replay after an outage, a status update resent by the agent) is one row.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

NAMESPACE = uuid.UUID("5b0c5c38-9a2c-4c36-a1f4-1f3f3f1d6e21")

STATUS = "status"
EXEC_START = "exec_start"
EXEC_COMPLETE = "exec_complete"
FIRE = "fire"
AUDIT = "audit"  # an accepted write of the REST API (trace.audit)
KINDS = (STATUS, EXEC_START, EXEC_COMPLETE, FIRE, AUDIT)


def row_id(*parts: object) -> str:
    return str(uuid.uuid5(NAMESPACE, "|".join(str(p) for p in parts)))


@dataclass(frozen=True, slots=True)
class Row:
    kind: str
    values: dict[str, Any]

    def to_json(self) -> str:
        encoded = {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in self.values.items()}
        return json.dumps({"kind": self.kind, "values": encoded}, separators=(",", ":"))

    @classmethod
    def from_json(cls, line: str) -> Row:
        document = json.loads(line)
        kind = document["kind"]
        if kind not in KINDS:
            raise ValueError(f"unknown row kind {kind!r}")
        values = {
            k: (datetime.fromisoformat(v) if k.endswith("_time") and isinstance(v, str) else v)
            for k, v in document["values"].items()
        }
        return cls(kind, values)


def truncate(text: str | None, limit: int) -> str | None:
    if text is None:
        return None
    return text if len(text) <= limit else text[: limit - 3] + "..."
