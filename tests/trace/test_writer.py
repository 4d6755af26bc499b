"""The writer thread: batches, an unreachable database (memory, then the journal), replay, stop."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from elasticjob_cloud.trace import schema
from elasticjob_cloud.trace.database import open_engine
from elasticjob_cloud.trace.journal import Journal
from elasticjob_cloud.trace.store import TraceStore
from elasticjob_cloud.trace.writer import TraceWriter
from tests.support import wait_until

from .test_store_contract import execution, status

T0 = datetime(2026, 3, 1, 10, 0, 0)


class Flaky:
    """The real store behind a switch: while ``down``, every write fails as a lost connection would."""

    def __init__(self, store: TraceStore):
        self.store = store
        self.down = False
        self.calls = 0

    def __call__(self, rows):
        self.calls += 1
        if self.down:
            raise sa.exc.OperationalError("INSERT", {}, ConnectionRefusedError("database down"))
        self.store.write(rows)


def rows_in(engine, table) -> int:
    with engine.connect() as c:
        return c.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()


def test_rows_wait_in_memory_then_in_the_journal_and_are_written_once_when_the_database_is_back(tmp_path):
    engine = open_engine(f"sqlite:///{tmp_path / 'trace.db'}")
    flaky = Flaky(TraceStore(engine))
    journal = Journal(tmp_path / "trace.journal")
    writer = TraceWriter(flaky, journal, batch_size=50, memory_limit=200).start()
    flaky.down = True
    for i in range(1000):
        writer.put(status(f"t{i}", "TASK_RUNNING", T0 + timedelta(seconds=i)))
        writer.put(execution(f"t{i}", T0, T0 + timedelta(seconds=1)))
    wait_until(journal.has_rows, message="rows spilled to the journal")
    wait_until(lambda: flaky.calls >= 3, message="retries while down")
    assert rows_in(engine, schema.status_trace_log) == 0
    flaky.down = False
    assert writer.wait_idle(20)
    assert not journal.has_rows()
    assert rows_in(engine, schema.status_trace_log) == 1000
    assert rows_in(engine, schema.execution_log) == 1000
    assert writer.dropped == 0 and writer.journaled > 0
    assert writer.take_late_since() == T0  # the statistics recount from the earliest late row
    assert writer.take_late_since() is None
    writer.stop()
    engine.dispose()


def test_stop_flushes_or_keeps_rows_in_the_journal_for_the_next_start(tmp_path):
    engine = open_engine(f"sqlite:///{tmp_path / 'trace.db'}")
    flaky = Flaky(TraceStore(engine))
    journal = Journal(tmp_path / "trace.journal")
    writer = TraceWriter(flaky, journal).start()
    flaky.down = True
    for i in range(10):
        writer.put(status(f"t{i}", "TASK_FINISHED", T0))
    writer.stop()
    assert journal.has_rows() and rows_in(engine, schema.status_trace_log) == 0
    flaky.down = False
    again = TraceWriter(flaky, journal).start()  # the next start replays it
    again.put(status("t-new", "TASK_FINISHED", T0))
    assert again.wait_idle(10)
    again.stop()
    assert rows_in(engine, schema.status_trace_log) == 11
    engine.dispose()


def test_a_full_queue_drops_and_counts_instead_of_blocking_the_caller(tmp_path):
    writer = TraceWriter(lambda rows: None, Journal(tmp_path / "j"), queue_size=5)  # not started
    for i in range(8):
        writer.put(status(f"t{i}", "TASK_RUNNING", T0))
    assert writer.dropped == 3


def test_a_corrupt_journal_line_is_skipped_not_fatal(tmp_path):
    journal = Journal(tmp_path / "j")
    journal.append([status("t1", "TASK_RUNNING", T0)])
    with open(journal.path, "a") as file:
        file.write("{not json\n")
    journal.append([status("t2", "TASK_RUNNING", T0)])
    assert [r.values["task_id"] for batch in journal.batches(10) for r in batch] == ["t1", "t2"]
