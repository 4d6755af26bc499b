"""Event trace numbers: ingestion rows/s and history search latency, on SQLite and PostgreSQL.

Everything is real: the trace's own writer thread and store (batched, idempotent inserts) over a
SQLite file (WAL) and over a private PostgreSQL server (Debian's binaries, started here on a loopback
port in a temp dir).

* ingestion: ``--executions`` executions of 3 shards, each 5 rows as the recorder makes them
  (STAGING, RUNNING, FINISHED status rows, execution start and completion), put into the writer from
  one thread as the engine does; rows/s from the first put until everything is committed. Baseline in
  the same run: the same rows written one per transaction (what an unbatched writer would do).
* search: ``--rows`` execution rows (100 jobs, spread over 30 days) loaded in bulk, then
  ``TraceSearch.executions`` (what ``GET /api/job/events/executions`` runs: count + page) for a
  random job over the 30 days sorted by start time, page 1 and page 1,000 (10 per page), ``--queries``
  of each; p50/p99. Baseline in the same run: the same queries with the trace's indexes dropped.

Usage::

    .venv/bin/python benchmarks/trace.py                 # about 3 minutes
    .venv/bin/python benchmarks/trace.py --quick
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

from elasticjob_cloud.trace import schema
from elasticjob_cloud.trace.database import open_engine
from elasticjob_cloud.trace.journal import Journal
from elasticjob_cloud.trace.pgserver import PostgresServer
from elasticjob_cloud.trace.rows import EXEC_COMPLETE, EXEC_START, STATUS, Row, row_id
from elasticjob_cloud.trace.search import TraceSearch
from elasticjob_cloud.trace.store import TraceStore
from elasticjob_cloud.trace.writer import TraceWriter

T0 = datetime(2026, 1, 1)
SEARCH_INDEXES = ("EXECUTION_JOB_START_INDEX", "EXECUTION_START_INDEX", "EXECUTION_COMPLETE_INDEX")


def execution_rows(n: int, prefix: str = "") -> list[Row]:
    rows = []
    for i in range(n):
        task = f"{prefix}job_{i % 100}@-@{i % 3}@-@READY@-@agent-{i % 7}@-@{i:08d}"
        start = T0 + timedelta(seconds=i)
        done = start + timedelta(seconds=2)
        for state, at in (("TASK_STAGING", start), ("TASK_RUNNING", start), ("TASK_FINISHED", done)):
            rows.append(
                Row(
                    STATUS,
                    {
                        "id": row_id("status", task, state), "job_name": f"job_{i % 100}",
                        "original_task_id": "", "task_id": task, "slave_id": f"agent-{i % 7}",
                        "source": "CLOUD_EXECUTOR", "execution_type": "READY", "sharding_item": f"[{i % 3}]",
                        "state": state, "message": None, "creation_time": at,
                    },
                )
            )  # fmt: skip
        execution = {
            "id": row_id("exec", task), "job_name": f"job_{i % 100}", "task_id": task,
            "hostname": f"host-{i % 7}", "ip": f"10.0.0.{i % 7}", "sharding_item": i % 3,
            "execution_source": "NORMAL_TRIGGER", "failure_cause": None, "is_success": 0,
            "start_time": start, "complete_time": None,
        }  # fmt: skip
        rows.append(Row(EXEC_START, execution))
        rows.append(Row(EXEC_COMPLETE, {**execution, "is_success": 1, "complete_time": done}))
    return rows


def ingest(url: str, executions: int, workdir: Path) -> tuple[float, float]:
    engine = open_engine(url)
    store = TraceStore(engine)
    rows = execution_rows(executions)
    writer = TraceWriter(store.write, Journal(workdir / "journal")).start()
    started = time.perf_counter()
    for row in rows:
        writer.put(row)
    writer.wait_idle(600)
    batched = len(rows) / (time.perf_counter() - started)
    writer.stop()
    single = execution_rows(max(200, executions // 20), prefix="single-")
    started = time.perf_counter()
    for row in single:
        store.write([row])
    one_by_one = len(single) / (time.perf_counter() - started)
    engine.dispose()
    return batched, one_by_one


def load(engine: sa.Engine, rows: int) -> None:
    table = schema.execution_log
    spread = 30 * 24 * 3600 / rows
    batch = []
    with engine.begin() as connection:
        for i in range(rows):
            start = T0 + timedelta(seconds=i * spread)
            batch.append(
                {
                    "id": f"{i:036d}", "job_name": f"job_{i % 100}", "task_id": f"job_{i % 100}@-@0@-@READY@-@a@-@{i}",
                    "hostname": "host", "ip": "10.0.0.1", "sharding_item": i % 3,
                    "execution_source": "NORMAL_TRIGGER", "failure_cause": None, "is_success": 1,
                    "start_time": start, "complete_time": start + timedelta(seconds=2),
                }
            )  # fmt: skip
            if len(batch) == 20000:
                connection.execute(sa.insert(table), batch)
                batch = []
        if batch:
            connection.execute(sa.insert(table), batch)
    if engine.dialect.name == "postgresql":
        vacuum(engine)  # as autovacuum does for an append-mostly table: index-only counts
    else:
        with engine.begin() as connection:
            connection.execute(sa.text("ANALYZE"))


def vacuum(engine: sa.Engine) -> None:
    import psycopg

    url = engine.url
    engine.dispose()  # no pooled connection holds an old snapshot
    with psycopg.connect(
        host=url.host, port=url.port, user=url.username, dbname=url.database, autocommit=True
    ) as connection:
        # the private server commits asynchronously: flush the WAL first, or VACUUM may not mark
        # the freshly loaded pages all-visible (then every count reads the table)
        connection.execute("CHECKPOINT")
        connection.execute('VACUUM ANALYZE "JOB_EXECUTION_LOG"')


def timings(search: TraceSearch, page: int, queries: int) -> tuple[float, float]:
    samples = []
    rng = random.Random(page)
    for _ in range(queries):
        params = {
            "jobName": f"job_{rng.randrange(100)}",
            "startTime": "2026-01-01 00:00:00",
            "endTime": "2026-02-01 00:00:00",
            "sort": "startTime",
            "order": "desc",
            "per_page": "10",
            "page": str(page),
        }
        started = time.perf_counter()
        result = search.executions(params)
        samples.append((time.perf_counter() - started) * 1000)
        assert len(result["rows"]) == 10, result["total"]
    samples.sort()
    return statistics.median(samples), samples[min(len(samples) - 1, int(len(samples) * 0.99))]


def search_bench(url: str, rows: int, queries: int) -> dict[str, tuple[float, float]]:
    engine = open_engine(url)
    started = time.perf_counter()
    load(engine, rows)
    print(f"    loaded {rows:,} rows in {time.perf_counter() - started:.0f} s", flush=True)
    search = TraceSearch(engine, UTC)
    pages = (1, min(1000, rows // 1000))  # 100 jobs, 10 rows a page: the last full page at most
    results = {f"page {page}": timings(search, page, queries) for page in pages}
    with engine.begin() as connection:
        for name in SEARCH_INDEXES:
            connection.execute(sa.text(f'DROP INDEX "{name}"'))
    if engine.dialect.name == "postgresql":
        vacuum(engine)
    results.update(
        {f"page {page}, no index (baseline)": timings(search, page, max(5, queries // 20)) for page in pages}
    )
    engine.dispose()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--executions", type=int, default=20000, help="executions ingested (5 rows each)")
    parser.add_argument("--rows", type=int, default=1_000_000, help="execution rows searched")
    parser.add_argument("--queries", type=int, default=200, help="search queries per page")
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke run")
    args = parser.parse_args()
    if args.quick:
        args.executions, args.rows, args.queries = 2000, 100_000, 50
    with tempfile.TemporaryDirectory(prefix="trace-bench-") as tmp, PostgresServer() as pg:
        workdir = Path(tmp)
        backends = {
            "SQLite": lambda name: f"sqlite:///{workdir / name}.db",
            "PostgreSQL": lambda name: _pg_database(pg, name),
        }
        for backend, make_url in backends.items():
            batched, single = ingest(make_url("ingest"), args.executions, workdir)
            print(
                f"{backend}: ingestion {batched:,.0f} rows/s batched (one row per transaction: {single:,.0f} rows/s)"
            )
            for label, (p50, p99) in search_bench(make_url("search"), args.rows, args.queries).items():
                print(
                    f"{backend}: search {args.rows:,} rows, {label}: p50 {p50:.1f} ms, p99 {p99:.1f} ms",
                    flush=True,
                )


def _pg_database(server: PostgresServer, name: str) -> str:
    import psycopg

    with psycopg.connect(
        f"host={server.host} port={server.port} user=postgres dbname=postgres", autocommit=True
    ) as c:
        c.execute(f'CREATE DATABASE "{name}"')
    return server.url.rsplit("/", 1)[0] + f"/{name}"


if __name__ == "__main__":
    main()
