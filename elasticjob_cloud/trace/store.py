"""Writing batches of trace rows, idempotently, and purging old ones in small batches.

One batch is one transaction: status and fire rows are inserted (duplicates skipped); an execution's
start is inserted (skipped if it exists); its completion is inserted whole (when the start never got
here: another leader's, or lost) or, when the row is there, sets its result, complete time and cause
(one upsert). Each statement is idempotent, and their order does not matter, so a journal replayed in
any order gives the same rows. A start and its completion in the same batch become one upsert.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, Table, delete, select
from sqlalchemy.engine import Connection

from . import schema
from .database import insert_ignoring_duplicates, insert_updating
from .rows import AUDIT, EXEC_COMPLETE, EXEC_START, FIRE, STATUS, Row

log = logging.getLogger(__name__)

EXECUTION_COLUMNS = tuple(c.name for c in schema.execution_log.columns)


class TraceStore:
    def __init__(self, engine: Engine):
        self.engine = engine
        self._insert = {
            STATUS: insert_ignoring_duplicates(engine, schema.status_trace_log),
            FIRE: insert_ignoring_duplicates(engine, schema.fire_log),
            EXEC_START: insert_ignoring_duplicates(engine, schema.execution_log),
            AUDIT: insert_ignoring_duplicates(engine, schema.audit_log),
        }
        self._complete = insert_updating(
            engine, schema.execution_log, ("is_success", "complete_time", "failure_cause")
        )

    def write(self, rows: Sequence[Row]) -> None:
        by_kind: dict[str, list[dict[str, Any]]] = {
            STATUS: [],
            FIRE: [],
            EXEC_START: [],
            EXEC_COMPLETE: [],
            AUDIT: [],
        }
        for row in rows:
            by_kind[row.kind].append(row.values)
        completed = {values["id"] for values in by_kind[EXEC_COMPLETE]}
        starts = [v for v in by_kind[EXEC_START] if v["id"] not in completed]
        completes = list({v["id"]: v for v in by_kind[EXEC_COMPLETE]}.values())
        with self.engine.begin() as connection:
            self._original_task_ids(connection, by_kind[STATUS])
            for kind, values in ((STATUS, by_kind[STATUS]), (FIRE, by_kind[FIRE]), (AUDIT, by_kind[AUDIT])):
                if values:
                    connection.execute(self._insert[kind], values)
            if starts:
                connection.execute(self._insert[EXEC_START], [self._execution(v) for v in starts])
            if completes:
                connection.execute(self._complete, [self._execution(v) for v in completes])

    @staticmethod
    def _original_task_ids(connection: Connection, statuses: list[dict[str, Any]]) -> None:
        """A failover task's rows written by a leader that did not launch it lack the task it replaces:
        taken from its STAGING row, as the original looked it up."""
        missing = {
            v["task_id"] for v in statuses if v["execution_type"] == "FAILOVER" and not v["original_task_id"]
        }
        if not missing:
            return
        table = schema.status_trace_log
        found = dict(
            connection.execute(
                select(table.c.task_id, table.c.original_task_id).where(
                    table.c.task_id.in_(missing), table.c.state == "TASK_STAGING"
                )
            ).all()
        )
        found.update({v["task_id"]: v["original_task_id"] for v in statuses if v["original_task_id"]})
        for values in statuses:
            if values["task_id"] in missing and found.get(values["task_id"]):
                values["original_task_id"] = found[values["task_id"]]

    @staticmethod
    def _execution(values: dict[str, Any]) -> dict[str, Any]:
        return {name: values.get(name) for name in EXECUTION_COLUMNS}

    def purge(self, before: datetime, batch: int = 1000) -> int:
        """Delete rows older than ``before``, ``batch`` at a time (no long lock). Returns rows deleted."""
        total = 0
        for table, column in (
            (schema.execution_log, "start_time"),
            (schema.status_trace_log, "creation_time"),
            (schema.fire_log, "creation_time"),
            (schema.task_result["MINUTE"], "statistics_time"),
            (schema.task_running, "statistics_time"),
            (schema.job_running, "statistics_time"),
        ):
            total += self._purge_table(table, column, before, batch)
        return total

    def _purge_table(self, table: Table, column: str, before: datetime, batch: int) -> int:
        total = 0
        key = table.c.id
        while True:
            with self.engine.begin() as connection:
                if self.engine.dialect.name in ("mysql", "mariadb"):
                    statement = (
                        delete(table).where(table.c[column] < before).with_dialect_options(mysql_limit=batch)
                    )
                else:
                    ids = select(key).where(table.c[column] < before).limit(batch)
                    statement = delete(table).where(key.in_(ids))
                deleted = connection.execute(statement).rowcount or 0
            total += deleted
            if deleted < batch:
                return total
