"""The original's statistics (reference §3.12), computed from the execution log, not from counters.

Every closed interval gets its row: task results per MINUTE (executions completed in the minute,
succeeded or failed; HOUR and DAY rows are sums of their minutes, so no pass scans a day of rows),
tasks and jobs running at each minute (executions under way at that instant), and registered jobs
per day (with the original's gap back-fill: a missed day repeats the
last count). Each pass recomputes the last few closed intervals too (``SETTLE``), so rows that arrive
late (written by the previous leader, or replayed after a database outage: the writer reports the
earliest such row and the next pass recounts from there) are counted, and a leader
change loses nothing: any instance computes the same numbers from the same rows. Writing an interval
again updates its one row.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy import Engine, Table, case, func, insert, select, union_all, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from . import schema
from .timeparse import format_time

log = logging.getLogger(__name__)

STEP = {"MINUTE": timedelta(minutes=1), "HOUR": timedelta(hours=1), "DAY": timedelta(days=1)}
SETTLE = {"MINUTE": 5, "HOUR": 2, "DAY": 2}  # closed intervals recomputed on every pass
BACKFILL = {"MINUTE": 24 * 60, "HOUR": 24 * 7, "DAY": 31}  # at most this many missed intervals
RUNNING_LOOKBACK = timedelta(days=7)  # an execution open longer than this is not counted running


def truncate(at: datetime, interval: str) -> datetime:
    at = at.replace(second=0, microsecond=0)
    if interval in ("HOUR", "DAY"):
        at = at.replace(minute=0)
    if interval == "DAY":
        at = at.replace(hour=0)
    return at


class Statistics:
    def __init__(
        self,
        engine: Engine,
        zone: tzinfo,
        registered_count: Callable[[], int] | None = None,
        clock: Callable[[], float] = time.time,
    ):
        self.engine = engine
        self.zone = zone
        self.registered_count = registered_count
        self.clock = clock

    def local(self, epoch: float) -> datetime:
        return datetime.fromtimestamp(epoch, self.zone).replace(tzinfo=None)

    # ---------------------------------------------------------------- computing
    def run(self, now: float | None = None, late_since: datetime | None = None) -> None:
        """One pass: every closed interval not yet written, the last few again, and every one from
        ``late_since`` (rows the writer could only write late, after a database outage)."""
        local_now = self.local(self.clock() if now is None else now)
        log_table = schema.execution_log
        with self.engine.begin() as connection:
            minutes = schema.task_result["MINUTE"]
            for interval, table in schema.task_result.items():
                for start in self._due(connection, table, interval, local_now, late_since):
                    end = start + STEP[interval]
                    if interval == "MINUTE":  # counted from the log: one minute of rows
                        done = (log_table.c.complete_time >= start) & (log_table.c.complete_time < end)
                        success, failed = connection.execute(
                            select(
                                func.coalesce(func.sum(case((log_table.c.is_success == 1, 1), else_=0)), 0),
                                func.coalesce(func.sum(case((log_table.c.is_success == 1, 0), else_=1)), 0),
                            ).where(done)
                        ).one()
                    else:  # hours and days: sums of their minutes (no scan of a day of rows)
                        within = (minutes.c.statistics_time >= start) & (minutes.c.statistics_time < end)
                        success, failed = connection.execute(
                            select(
                                func.coalesce(func.sum(minutes.c.success_count), 0),
                                func.coalesce(func.sum(minutes.c.failed_count), 0),
                            ).where(within)
                        ).one()
                    self._upsert(
                        connection, table, start, local_now, success_count=success, failed_count=failed
                    )
            for start in self._due(connection, schema.task_running, "MINUTE", local_now, late_since):
                # two index ranges that stay small however long the log: completed after the
                # instant (the last minutes' rows), and not completed yet (what runs now)
                under_way = union_all(
                    select(log_table.c.job_name).where(
                        (log_table.c.complete_time > start) & (log_table.c.start_time <= start)
                    ),
                    select(log_table.c.job_name).where(
                        log_table.c.complete_time.is_(None)
                        & (log_table.c.start_time <= start)
                        & (log_table.c.start_time > start - RUNNING_LOOKBACK)
                    ),
                ).subquery()
                tasks, jobs = connection.execute(
                    select(func.count(), func.count(under_way.c.job_name.distinct()))
                ).one()
                self._upsert(connection, schema.task_running, start, local_now, running_count=tasks)
                self._upsert(connection, schema.job_running, start, local_now, running_count=jobs)
            if self.registered_count is not None:
                self._registered(connection, local_now, self.registered_count())

    def _due(
        self, connection: Connection, table: Table, interval: str, now: datetime, late_since: datetime | None
    ) -> list[datetime]:
        step = STEP[interval]
        last_closed = truncate(now, interval) - step
        latest = connection.execute(select(func.max(table.c.statistics_time))).scalar()
        first = last_closed - (SETTLE[interval] - 1) * step
        if latest is not None:
            first = min(first, latest + step)
        if late_since is not None:
            first = min(first, truncate(late_since, interval))
        first = max(first, last_closed - BACKFILL[interval] * step)
        starts = []
        while first <= last_closed:
            starts.append(first)
            first += step
        return starts

    def _registered(self, connection: Connection, now: datetime, count: int) -> None:
        table = schema.job_register
        today = truncate(now, "DAY")
        latest = connection.execute(
            select(table.c.statistics_time, table.c.registered_count)
            .order_by(table.c.statistics_time.desc())
            .limit(1)
        ).first()
        if latest is not None:  # the missed days, at most the last BACKFILL of them
            day = max(latest[0] + STEP["DAY"], today - BACKFILL["DAY"] * STEP["DAY"])
            while day < today:
                self._upsert(connection, table, day, now, registered_count=latest[1])
                day += STEP["DAY"]
        self._upsert(connection, table, today, now, registered_count=count)

    @staticmethod
    def _upsert(connection: Connection, table: Table, at: datetime, now: datetime, **counts: Any) -> None:
        changed = connection.execute(
            update(table).where(table.c.statistics_time == at).values(**counts, creation_time=now)
        ).rowcount
        if not changed:
            try:
                with connection.begin_nested():
                    connection.execute(insert(table).values(**counts, statistics_time=at, creation_time=now))
            except IntegrityError:  # another instance wrote it a moment ago: theirs counts the same
                pass

    # ---------------------------------------------------------------- reading (REST)
    def task_results(self, since: datetime) -> list[dict[str, Any]]:
        table = schema.task_result["MINUTE"]
        return [self._result_json(row, "MINUTE") for row in self._rows(table, since)]

    def summed_results(self, interval: str, since: datetime) -> dict[str, Any]:
        """The stored rows since ``since``, plus what no row holds yet, counted from the log: the
        interval still open (the original left today out of its weekly sum until midnight) and any
        closed one the statistics pass has not stored yet (just after midnight, before the new
        day's first pass, yesterday is neither: without this it dropped out of the sum)."""
        table = schema.task_result[interval]
        local_now = self.local(self.clock())
        open_since = truncate(local_now, interval)
        log_table = schema.execution_log
        with self.engine.connect() as connection:
            latest = connection.execute(
                select(func.max(table.c.statistics_time)).where(table.c.statistics_time < open_since)
            ).scalar()
            if latest is not None:
                open_since = min(open_since, latest + STEP[interval])
            success, failed = connection.execute(
                select(
                    func.coalesce(func.sum(table.c.success_count), 0),
                    func.coalesce(func.sum(table.c.failed_count), 0),
                ).where((table.c.statistics_time >= since) & (table.c.statistics_time < open_since))
            ).one()
            live_success, live_failed = connection.execute(
                select(
                    func.coalesce(func.sum(case((log_table.c.is_success == 1, 1), else_=0)), 0),
                    func.coalesce(func.sum(case((log_table.c.is_success == 1, 0), else_=1)), 0),
                ).where(log_table.c.complete_time >= max(open_since, since))
            ).one()
        now = format_time(local_now)
        return {
            "successCount": int(success) + int(live_success),
            "failedCount": int(failed) + int(live_failed),
            "statisticInterval": interval,
            "statisticsTime": now,
            "creationTime": now,
        }

    def latest_results(self, interval: str) -> dict[str, Any]:
        table = schema.task_result[interval]
        with self.engine.connect() as connection:
            row = (
                connection.execute(select(table).order_by(table.c.statistics_time.desc()).limit(1))
                .mappings()
                .first()
            )
        if row is None:
            now = format_time(self.local(self.clock()))
            return {
                "successCount": 0,
                "failedCount": 0,
                "statisticInterval": interval,
                "statisticsTime": now,
                "creationTime": now,
            }
        return self._result_json(row, interval)

    def running(self, table: Table, since: datetime) -> list[dict[str, Any]]:
        return [
            {
                "id": row["id"],
                "runningCount": row["running_count"],
                "statisticsTime": format_time(row["statistics_time"]),
                "creationTime": format_time(row["creation_time"]),
            }
            for row in self._rows(table, since)
        ]

    def registered(self, since: datetime) -> list[dict[str, Any]]:
        return [
            {
                "id": row["id"],
                "registeredCount": row["registered_count"],
                "statisticsTime": format_time(row["statistics_time"]),
                "creationTime": format_time(row["creation_time"]),
            }
            for row in self._rows(schema.job_register, since)
        ]

    def _rows(self, table: Table, since: datetime) -> list[Any]:
        with self.engine.connect() as connection:
            return list(
                connection.execute(
                    select(table).where(table.c.statistics_time >= since).order_by(table.c.statistics_time)
                )
                .mappings()
                .all()
            )

    @staticmethod
    def _result_json(row: Any, interval: str) -> dict[str, Any]:
        return {
            "id": row["id"],
            "successCount": row["success_count"],
            "failedCount": row["failed_count"],
            "statisticInterval": interval,
            "statisticsTime": format_time(row["statistics_time"]),
            "creationTime": format_time(row["creation_time"]),
        }
