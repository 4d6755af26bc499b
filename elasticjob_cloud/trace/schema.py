"""The event trace tables: the original's names and columns, so its databases and queries keep working.

``JOB_EXECUTION_LOG`` and ``JOB_STATUS_TRACE_LOG`` are the original's (reference §5), as are the six
statistics tables (§3.12). ``PRODUCER_FIRE_LOG`` is ours: what the cron producer did at each fire
(CATCH_UP, SKIP with the missed count, REFUSED), so a missed fire shows in history.

Indexes beyond the original's serve the search API (job + time range sorted by start time) and
retention (time columns). Statistics tables get a unique ``statistics_time`` so that writing an
interval twice (two leaders, a replay) keeps one row.

Timestamps are naive, in the scheduler's time zone, as the original wrote them (the JVM's zone).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
)

metadata = MetaData()

FAILURE_CAUSE_LIMIT = 4000
MESSAGE_LIMIT = 4000

execution_log = Table(
    "JOB_EXECUTION_LOG",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("job_name", String(100), nullable=False),
    Column("task_id", String(255), nullable=False),
    Column("hostname", String(255), nullable=False),
    Column("ip", String(50), nullable=False),
    Column("sharding_item", Integer, nullable=False),
    Column("execution_source", String(20), nullable=False),
    Column("failure_cause", String(FAILURE_CAUSE_LIMIT), nullable=True),
    Column("is_success", Integer, nullable=False),
    Column("start_time", DateTime, nullable=True),
    Column("complete_time", DateTime, nullable=True),
    Index("EXECUTION_JOB_START_INDEX", "job_name", "start_time", "id"),  # revision 0002
    Index("EXECUTION_START_INDEX", "start_time"),
    Index("EXECUTION_COMPLETE_INDEX", "complete_time"),
)

status_trace_log = Table(
    "JOB_STATUS_TRACE_LOG",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("job_name", String(100), nullable=False),
    Column("original_task_id", String(255), nullable=False),
    Column("task_id", String(255), nullable=False),
    Column("slave_id", String(50), nullable=False),
    Column("source", String(50), nullable=False),
    Column("execution_type", String(20), nullable=False),
    Column("sharding_item", String(100), nullable=False),
    Column("state", String(20), nullable=False),
    Column("message", String(MESSAGE_LIMIT), nullable=True),
    Column("creation_time", DateTime, nullable=True),
    Index("TASK_ID_STATE_INDEX", "task_id", "state"),
    Index("STATUS_JOB_CREATION_INDEX", "job_name", "creation_time", "id"),  # revision 0002
    Index("STATUS_CREATION_INDEX", "creation_time"),
)

fire_log = Table(
    "PRODUCER_FIRE_LOG",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("job_name", String(100), nullable=False),
    Column("kind", String(20), nullable=False),  # FIRE CATCH_UP SKIP REFUSED ANCHOR DEADLINE_EXCEEDED
    Column("fire_time", DateTime, nullable=False),  # the latest scheduled instant the write accounted for
    Column("runs", Integer, nullable=False),
    Column("missed", Integer, nullable=False),
    Column("ready_count", Integer, nullable=True),
    Column("creation_time", DateTime, nullable=False),
    Index("FIRE_JOB_TIME_INDEX", "job_name", "fire_time"),
    Index("FIRE_CREATION_INDEX", "creation_time"),
)


def _statistics(name: str, *counts: str) -> Table:
    return Table(
        name,
        metadata,
        Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
        *(Column(count, Integer) for count in counts),
        Column("statistics_time", DateTime, nullable=False),
        Column("creation_time", DateTime, nullable=False),
        Index(f"UQ_{name}_TIME", "statistics_time", unique=True),
    )


INTERVALS = ("MINUTE", "HOUR", "DAY")
task_result = {
    interval: _statistics(f"TASK_RESULT_STATISTICS_{interval}", "success_count", "failed_count")
    for interval in INTERVALS
}
task_running = _statistics("TASK_RUNNING_STATISTICS", "running_count")
job_running = _statistics("JOB_RUNNING_STATISTICS", "running_count")
job_register = _statistics("JOB_REGISTER_STATISTICS", "registered_count")

# Ours: every accepted write of the REST API (rest.audit): who, when, from where, what.
audit_log = Table(
    "AUDIT_LOG",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("creation_time", DateTime, nullable=False),
    Column("username", String(100), nullable=False),
    Column("role", String(20), nullable=False),
    Column("address", String(64), nullable=False),
    Column("method", String(10), nullable=False),
    Column("path", String(1000), nullable=False),
    Column("status", Integer, nullable=False),
    Column("body", String(4000), nullable=False),
    Index("AUDIT_CREATION_INDEX", "creation_time"),
    Index("AUDIT_USER_CREATION_INDEX", "username", "creation_time"),
)
