"""The audit log in the event trace database (``AUDIT_LOG``): ``core.ports.AuditLog`` for ``rest.audit``.

Entries go through the trace writer like every trace row, so a write made while the database is
away is journaled and written later, and the request that made it never waits for the database.
Times are stored as the trace stores them (naive, in the scheduler's time zone). Search: equality
filters, a ``path`` prefix, a time range, newest first, one page.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from ..core.fields import whole_number
from ..core.ports import AuditEntry, AuditQuery
from . import schema
from .rows import AUDIT, Row, truncate

if TYPE_CHECKING:
    from .service import TraceService

COLUMNS = ("username", "role", "address", "method", "status", "path")


class TraceAuditLog:
    persistent = True

    def __init__(self, service: TraceService):
        self.service = service

    def _local(self, when: datetime) -> datetime:
        return when.astimezone(self.service.zone).replace(tzinfo=None)

    def record(self, entry: AuditEntry) -> None:
        self.service.writer.put(
            Row(
                AUDIT,
                {
                    "id": str(uuid.uuid4()),
                    "creation_time": self._local(entry.time),
                    "username": entry.username[:100],
                    "role": entry.role[:20],
                    "address": entry.address[:64],
                    "method": entry.method[:10],
                    "path": truncate(entry.path, 1000),
                    "status": entry.status,
                    "body": truncate(entry.body, 4000),
                },
            )
        )

    def search(self, query: AuditQuery) -> tuple[int, list[AuditEntry]]:
        table = schema.audit_log
        conditions = []
        for name, value in query.filters.items():
            if name not in COLUMNS:
                continue
            column = table.c[name]
            if name == "path":
                conditions.append(column.startswith(value, autoescape=True))
            elif name == "status":
                number = whole_number(value)  # the API refuses another value (rest.audit)
                conditions.append(column == (number if number is not None else -1))
            else:
                conditions.append(column == value)
        if query.start is not None:
            conditions.append(table.c.creation_time >= self._local(query.start))
        if query.end is not None:
            conditions.append(table.c.creation_time <= self._local(query.end))
        rows_query = (
            select(table)
            .where(*conditions)
            .order_by(table.c.creation_time.desc(), table.c.id.desc())
            .offset(query.offset)
            .limit(query.limit)
        )
        with self.service.reading(), self.service.engine.connect() as connection:
            total = connection.execute(
                select(func.count()).select_from(table).where(*conditions)
            ).scalar_one()
            found = connection.execute(rows_query).mappings().all()
        zone = self.service.zone
        return int(total), [
            AuditEntry(
                time=row["creation_time"].replace(tzinfo=zone),
                username=row["username"],
                role=row["role"],
                address=row["address"],
                method=row["method"],
                path=row["path"],
                status=row["status"],
                body=row["body"],
            )
            for row in found
        ]
