"""The trace store, search and statistics contract, on SQLite and on a real PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from elasticjob_cloud.exceptions import InvalidConfig
from elasticjob_cloud.trace import schema
from elasticjob_cloud.trace.migrate import current_revision, upgrade
from elasticjob_cloud.trace.rows import EXEC_COMPLETE, EXEC_START, FIRE, STATUS, Row, row_id
from elasticjob_cloud.trace.search import TraceSearch
from elasticjob_cloud.trace.statistics import Statistics
from elasticjob_cloud.trace.store import TraceStore

T0 = datetime(2026, 3, 1, 10, 0, 0)


def execution(task: str, start: datetime, complete: datetime | None = None, success: bool = True, **extra):
    values = {
        "id": row_id("exec", task),
        "job_name": extra.get("job", "job_a"),
        "task_id": task,
        "hostname": "agent-host",
        "ip": "127.0.0.1",
        "sharding_item": extra.get("item", 0),
        "execution_source": extra.get("source", "NORMAL_TRIGGER"),
        "failure_cause": None if success else extra.get("cause", "boom"),
        "is_success": 1 if complete and success else 0,
        "start_time": start,
        "complete_time": complete,
    }
    return Row(EXEC_COMPLETE if complete else EXEC_START, values)


def status(task: str, state: str, at: datetime, job: str = "job_a", message: str | None = None) -> Row:
    return Row(
        STATUS,
        {
            "id": row_id("status", task, state),
            "job_name": job,
            "original_task_id": "",
            "task_id": task,
            "slave_id": "S1",
            "source": "CLOUD_SCHEDULER",
            "execution_type": "READY",
            "sharding_item": "[0]",
            "state": state,
            "message": message,
            "creation_time": at,
        },
    )


def count(engine, table) -> int:
    with engine.connect() as c:
        return c.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()


def test_schema_is_created_once_and_versioned(db_engine):
    assert current_revision(db_engine) == "0003"  # 0002: covering search indexes; 0003: the audit log
    upgrade(db_engine)  # again: nothing to do, nothing fails
    names = set(sa.inspect(db_engine).get_table_names())
    assert {"JOB_EXECUTION_LOG", "JOB_STATUS_TRACE_LOG", "PRODUCER_FIRE_LOG", "AUDIT_LOG"} <= names
    assert {
        "TASK_RESULT_STATISTICS_MINUTE",
        "TASK_RESULT_STATISTICS_HOUR",
        "TASK_RESULT_STATISTICS_DAY",
    } <= names
    assert {"TASK_RUNNING_STATISTICS", "JOB_RUNNING_STATISTICS", "JOB_REGISTER_STATISTICS"} <= names
    columns = [c["name"] for c in sa.inspect(db_engine).get_columns("JOB_EXECUTION_LOG")]
    assert columns == [
        "id", "job_name", "task_id", "hostname", "ip", "sharding_item", "execution_source",
        "failure_cause", "is_success", "start_time", "complete_time",
    ]  # fmt: skip
    indexes = {i["name"] for i in sa.inspect(db_engine).get_indexes("JOB_STATUS_TRACE_LOG")}
    assert "TASK_ID_STATE_INDEX" in indexes


def test_a_replayed_batch_never_doubles_a_row(db_engine):
    store = TraceStore(db_engine)
    rows = [status("t1", "TASK_STAGING", T0), status("t1", "TASK_RUNNING", T0), execution("t1", T0)]
    fire = Row(FIRE, {"id": row_id("fire", "job_a", T0), "job_name": "job_a", "kind": "SKIP", "fire_time": T0,
                      "runs": 0, "missed": 3, "ready_count": None, "creation_time": T0})  # fmt: skip
    store.write([*rows, fire])
    store.write([*rows, fire])
    assert count(db_engine, schema.status_trace_log) == 2
    assert count(db_engine, schema.execution_log) == 1
    assert count(db_engine, schema.fire_log) == 1


@pytest.mark.parametrize("order", ["start-then-complete", "complete-then-start", "same-batch"])
def test_an_execution_is_one_row_whatever_order_its_rows_arrive_in(db_engine, order):
    store = TraceStore(db_engine)
    start = execution("t1", T0)
    done = execution("t1", T0, T0 + timedelta(seconds=3), success=False, cause="x" * 10)
    if order == "same-batch":
        store.write([start, done])
    else:
        first, second = (start, done) if order == "start-then-complete" else (done, start)
        store.write([first])
        store.write([second])
    with db_engine.connect() as c:
        rows = c.execute(sa.select(schema.execution_log)).mappings().all()
    assert len(rows) == 1
    assert rows[0]["complete_time"] == T0 + timedelta(seconds=3)
    assert (rows[0]["is_success"], rows[0]["failure_cause"]) == (0, "x" * 10)


def fill(db_engine):
    store = TraceStore(db_engine)
    rows = []
    for i in range(30):
        job = "job_a" if i % 2 == 0 else "job_b"
        start = T0 + timedelta(seconds=10 * i)
        complete = None if i == 29 else start + timedelta(seconds=2)
        rows.append(execution(f"task-{i:02}", start, complete, success=i % 3 != 0, job=job, item=i % 3))
        rows.append(status(f"task-{i:02}", "TASK_RUNNING", start, job=job))
    store.write(rows)


def test_search_filters_sorts_pages_and_counts(db_engine):
    fill(db_engine)
    search = TraceSearch(db_engine, UTC)
    page = search.executions(
        {"per_page": "5", "page": "2", "jobName": "job_a", "sort": "startTime", "order": "asc"}
    )
    assert page["total"] == 15
    assert [row["taskId"] for row in page["rows"]] == [f"task-{i:02}" for i in range(10, 20, 2)]
    row = page["rows"][0]
    assert row["startTime"] == "2026-03-01 10:01:40" and row["completeTime"] == "2026-03-01 10:01:42"
    assert row["success"] is True and row["source"] == "NORMAL_TRIGGER" and "failureCause" not in row
    failed = search.executions({"isSuccess": "0", "jobName": "", "ip": ""})
    assert failed["total"] == 10  # i % 3 == 0, completed
    assert all(r["failureCause"] == {"plainText": "boom"} and r["success"] is False for r in failed["rows"])
    running = search.executions({"taskId": "task-29"})["rows"][0]
    assert running["success"] is None and running["result"] == "RUNNING" and "completeTime" not in running
    window = search.executions({"startTime": "2026-03-01 10:01:00", "endTime": "2026-03-01T10:02:00+00:00"})
    assert window["total"] == 7  # starts at 60, 70, …, 120 s
    newest = search.executions({})["rows"][0]
    assert newest["taskId"] == "task-29"
    traces = search.status_traces({"jobName": "job_b", "state": "TASK_RUNNING", "per_page": "100"})
    assert traces["total"] == 15 and traces["rows"][0]["shardingItems"] == "[0]"
    assert search.executions({"per_page": "5000"})["total"] == 30


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"sort": "job_name; DROP TABLE JOB_EXECUTION_LOG"}, "sort"),
        ({"order": "sideways"}, "order"),
        ({"startTime": "yesterday"}, "startTime"),
        ({"endTime": "2026-13-01 00:00:00"}, "endTime"),
        ({"per_page": "ten"}, "per_page"),
        ({"page": "1.5"}, "page"),
        ({"isSuccess": "maybe"}, "isSuccess"),
        ({"shardingItem": "x"}, "shardingItem"),
    ],
)
def test_a_bad_parameter_is_refused_by_name(db_engine, params, named):
    fill(db_engine)
    with pytest.raises(InvalidConfig) as caught:
        TraceSearch(db_engine, UTC).executions(params)
    assert named in caught.value.errors
    assert count(db_engine, schema.execution_log) == 30


def test_a_filter_value_is_bound_not_pasted(db_engine):
    fill(db_engine)
    found = TraceSearch(db_engine, UTC).executions({"jobName": "job_a' OR '1'='1"})
    assert found == {"total": 0, "rows": []}


def test_job_executions_give_durations_and_percentiles(db_engine):
    store = TraceStore(db_engine)
    store.write(
        [
            execution(f"t{i}", T0 + timedelta(minutes=i), T0 + timedelta(minutes=i, seconds=i))
            for i in range(1, 21)
        ]
    )
    result = TraceSearch(db_engine, UTC).job_executions("job_a", 10)
    assert [e["durationMs"] for e in result["executions"]] == [s * 1000 for s in range(20, 10, -1)]
    assert result["duration"] == {"count": 10, "p50Ms": 15000, "p95Ms": 20000}


def epoch(at: datetime) -> float:
    return at.replace(tzinfo=UTC).timestamp()


def test_statistics_count_closed_intervals_from_the_log_and_settle_late_rows(db_engine):
    store = TraceStore(db_engine)
    store.write(
        [
            execution("a", T0, T0 + timedelta(seconds=10)),
            execution("b", T0, T0 + timedelta(seconds=20), success=False),
            execution("c", T0 + timedelta(seconds=30), T0 + timedelta(minutes=1, seconds=5)),
            execution("d", T0 + timedelta(seconds=50)),  # still running
        ]
    )
    statistics = Statistics(db_engine, UTC, registered_count=lambda: 7)
    now = epoch(T0 + timedelta(minutes=2, seconds=3))
    statistics.run(now)
    statistics.run(now)  # idempotent: the same rows
    minutes = {
        r["statisticsTime"]: (r["successCount"], r["failedCount"]) for r in statistics.task_results(T0)
    }
    assert minutes["2026-03-01 10:00:00"] == (1, 1)
    assert minutes["2026-03-01 10:01:00"] == (1, 0)
    assert count(db_engine, schema.task_result["MINUTE"]) == 5  # the last SETTLE closed minutes
    running = {r["statisticsTime"]: r["runningCount"] for r in statistics.running(schema.task_running, T0)}
    assert running["2026-03-01 10:01:00"] == 2  # c and d were under way at 10:01
    jobs = {r["statisticsTime"]: r["runningCount"] for r in statistics.running(schema.job_running, T0)}
    assert jobs["2026-03-01 10:01:00"] == 1
    # a row that arrives late (replayed after an outage) is counted on the next pass
    store.write([execution("e", T0, T0 + timedelta(seconds=40), success=False)])
    statistics.run(now + 60)
    minutes = {
        r["statisticsTime"]: (r["successCount"], r["failedCount"]) for r in statistics.task_results(T0)
    }
    assert minutes["2026-03-01 10:00:00"] == (1, 2)
    assert statistics.latest_results("MINUTE")["statisticsTime"] == "2026-03-01 10:02:00"
    assert [r["registeredCount"] for r in statistics.registered(T0 - timedelta(days=1))] == [7]


def test_registered_jobs_back_fill_missed_days_with_the_last_count(db_engine):
    counts = iter([3, 5])
    statistics = Statistics(db_engine, UTC, registered_count=lambda: next(counts))
    statistics.run(epoch(T0))
    statistics.run(epoch(T0 + timedelta(days=3)))
    rows = statistics.registered(T0 - timedelta(days=1))
    assert [(r["statisticsTime"][:10], r["registeredCount"]) for r in rows] == [
        ("2026-03-01", 3), ("2026-03-02", 3), ("2026-03-03", 3), ("2026-03-04", 5),
    ]  # fmt: skip


def test_purge_deletes_old_rows_in_batches(db_engine):
    store = TraceStore(db_engine)
    store.write([execution(f"old{i}", T0 - timedelta(days=40), T0 - timedelta(days=40)) for i in range(25)])
    store.write([status(f"old{i}", "TASK_FINISHED", T0 - timedelta(days=40)) for i in range(25)])
    store.write([execution("new", T0, T0)])
    assert store.purge(T0 - timedelta(days=30), batch=10) == 50
    assert count(db_engine, schema.execution_log) == 1
    assert count(db_engine, schema.status_trace_log) == 0


def test_a_database_at_an_older_revision_is_migrated_at_start(db_url):
    from elasticjob_cloud.trace.database import open_engine

    engine = open_engine(db_url, migrate=False)
    upgrade(engine, "0001")
    TraceStore(engine).write([execution("t1", T0)])
    engine.dispose()
    engine = open_engine(db_url)  # as a start does
    assert current_revision(engine) == "0003"  # the latest
    index = next(
        i
        for i in sa.inspect(engine).get_indexes("JOB_EXECUTION_LOG")
        if i["name"] == "EXECUTION_JOB_START_INDEX"
    )
    assert index["column_names"] == ["job_name", "start_time", "id"]
    assert count(engine, schema.execution_log) == 1
    engine.dispose()


def test_a_failover_tasks_later_rows_get_the_original_task_id_of_its_staging_row(db_engine):
    store = TraceStore(db_engine)
    staging = status("fo-1", "TASK_STAGING", T0)
    staging.values.update(execution_type="FAILOVER", original_task_id="lost-task")
    store.write([staging])
    running = status("fo-1", "TASK_RUNNING", T0 + timedelta(seconds=1))  # another leader: it did not know
    running.values.update(execution_type="FAILOVER")
    store.write([running])
    rows = TraceSearch(db_engine, UTC).status_traces({"taskId": "fo-1"})["rows"]
    assert {r["originalTaskId"] for r in rows} == {"lost-task"}


def test_rows_written_late_after_an_outage_are_recounted_from_their_time(db_engine):
    statistics = Statistics(db_engine, UTC)
    now = epoch(T0 + timedelta(minutes=70))
    statistics.run(now)
    TraceStore(db_engine).write([execution("late", T0, T0 + timedelta(seconds=5))])  # 70 minutes late
    statistics.run(now + 60)
    assert sum(r["successCount"] for r in statistics.task_results(T0)) == 0  # beyond the settle window
    statistics.run(now + 60, late_since=T0)
    minutes = {r["statisticsTime"]: r["successCount"] for r in statistics.task_results(T0)}
    assert minutes["2026-03-01 10:00:00"] == 1
    hour = statistics.latest_results("HOUR")  # 10:00-11:00 sums its minutes
    assert (hour["statisticsTime"], hour["successCount"]) == ("2026-03-01 10:00:00", 1)


def test_the_weekly_sum_counts_yesterday_before_the_first_pass_of_the_day_stored_it(db_engine):
    """At 00:00:01, before the pass of the new day stores yesterday's DAY row, yesterday is neither
    stored nor today's open interval: the sum counts it from the log (it dropped a whole day)."""
    day = datetime(2026, 3, 1)
    last_minute = day + timedelta(hours=23, minutes=59)
    TraceStore(db_engine).write(
        [
            execution("ok", last_minute, last_minute + timedelta(seconds=20)),
            execution("bad", last_minute, last_minute + timedelta(seconds=40), success=False),
        ]
    )
    now = [epoch(last_minute + timedelta(seconds=59))]
    statistics = Statistics(db_engine, UTC, clock=lambda: now[0])
    statistics.run()  # the day's last pass: its last minute and the day itself still open
    now[0] = epoch(day + timedelta(days=1, seconds=1))
    week = statistics.summed_results("DAY", day - timedelta(days=6))
    assert (week["successCount"], week["failedCount"]) == (1, 1)
    statistics.run()  # the new day's first pass stores yesterday: the same sum, nothing counted twice
    week = statistics.summed_results("DAY", day - timedelta(days=6))
    assert (week["successCount"], week["failedCount"]) == (1, 1)
    assert statistics.latest_results("DAY")["statisticsTime"] == "2026-03-01 00:00:00"


def test_registered_jobs_back_fill_at_most_the_last_31_missed_days_after_a_longer_gap(db_engine):
    counts = iter([3, 5])
    statistics = Statistics(db_engine, UTC, registered_count=lambda: next(counts))
    statistics.run(epoch(T0))
    statistics.run(epoch(T0 + timedelta(days=40)))  # 39 days missed: the last 31 of them repeat the 3
    rows = [
        (r["statisticsTime"][:10], r["registeredCount"])
        for r in statistics.registered(T0 - timedelta(days=1))
    ]
    days = [(str((T0 + timedelta(days=d)).date()), 3) for d in range(9, 40)]
    assert rows == [("2026-03-01", 3), *days, ("2026-04-10", 5)]
