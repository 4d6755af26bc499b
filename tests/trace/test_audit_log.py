"""The audit log in the trace database, on SQLite and on PostgreSQL (``trace.audit``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from elasticjob_cloud.core.ports import AuditEntry, AuditQuery
from elasticjob_cloud.trace.audit import TraceAuditLog
from elasticjob_cloud.trace.service import TraceService
from tests.support import wait_until

START = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def audit(db_url, tmp_path):
    service = TraceService(db_url, "Asia/Shanghai", tmp_path / "journal").start()
    yield TraceAuditLog(service)
    service.stop()


def entry(i: int, **changes) -> AuditEntry:
    values = {
        "time": START + timedelta(minutes=i),
        "username": "admin",
        "role": "admin",
        "address": "10.0.0.1",
        "method": "POST",
        "path": f"/api/app/a{i}/disable",
        "status": 204,
        "body": "",
    }
    values.update(changes)
    return AuditEntry(**values)


def query(**filters) -> AuditQuery:
    start, end = filters.pop("start", None), filters.pop("end", None)
    offset, limit = filters.pop("offset", 0), filters.pop("limit", 10)
    return AuditQuery(filters, start, end, offset, limit)


def test_entries_are_written_through_the_trace_writer_and_read_back_newest_first(audit):
    for i in range(12):
        audit.record(entry(i))
    audit.record(
        entry(12, username="ops", role="viewer", method="DELETE", path="/api/app/x%_y", body='{"a":1}')
    )
    total, _ = wait_until(
        lambda: (lambda t: t if t[0] == 13 else None)(audit.search(query())), 10, 0.05, "13 rows"
    )
    total, rows = audit.search(query())
    assert total == 13 and len(rows) == 10
    assert rows[0] == entry(
        12, username="ops", role="viewer", method="DELETE", path="/api/app/x%_y", body='{"a":1}'
    )
    assert rows[0].time == START + timedelta(minutes=12)  # stored in the scheduler's zone, read back the same
    assert [r.path for r in audit.search(query(offset=10))[1]] == [
        f"/api/app/a{i}/disable" for i in (2, 1, 0)
    ]
    assert audit.search(query(username="ops"))[0] == 1
    assert audit.search(query(method="POST", status="204"))[0] == 12
    assert audit.search(query(status="nope"))[0] == 0
    assert audit.search(query(path="/api/app/a1"))[0] == 3  # a1, a10, a11
    assert audit.search(query(path="/api/app/x%"))[0] == 1  # % and _ are literal
    assert audit.search(query(path="/api/app/%"))[0] == 0
    window = query(start=START + timedelta(minutes=2), end=START + timedelta(minutes=4))
    assert [r.path for r in audit.search(window)[1]] == [f"/api/app/a{i}/disable" for i in (4, 3, 2)]
