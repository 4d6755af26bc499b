"""End to end: real ZooKeeper, the local Mesos, the pymesos drivers, real executor subprocesses and
the packed example app, with the event trace in SQLite or a real PostgreSQL.

What the example jobs record themselves (``schedkit.read_records``) is the ground truth the trace
rows are checked against: every execution exactly once, with its host, source and result.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
import sqlalchemy as sa

from elasticjob_cloud.trace import schema
from elasticjob_cloud.trace.pgserver import PostgresServer
from elasticjob_cloud.trace.recorder import TraceRecorder
from elasticjob_cloud.trace.service import TraceService
from tests.scheduler.schedkit import FAR_FUTURE, Harness
from tests.support import wait_until

pytestmark = pytest.mark.slow


class TracedHarness(Harness):
    """The scheduler harness with the event trace plugged into the leader's parts."""

    trace: TraceService

    def new_trace(self) -> TraceRecorder:
        """Every leader has its own recorder (a new process would), writing through the one database."""
        return TraceRecorder(self.trace.writer.put, self.trace.zone)


@pytest.fixture
def traced(zk_hosts, tmp_path, packed_app, record_dir):
    made: list[tuple[TracedHarness, TraceService]] = []

    def factory(url: str, agents: int = 2) -> TracedHarness:
        trace = TraceService(url, "UTC", tmp_path / f"journal{len(made)}").start()
        harness = TracedHarness(zk_hosts, tmp_path / f"mesos{len(made)}", packed_app, record_dir, agents, {})
        harness.trace = trace
        made.append((harness, trace))
        harness.start()
        harness.app()
        return harness

    yield factory
    for harness, trace in made:
        harness.close()
        trace.stop()


def executions(trace: TraceService, job: str) -> list[Any]:
    table = schema.execution_log
    with trace.engine.connect() as c:
        return list(c.execute(sa.select(table).where(table.c.job_name == job)).mappings().all())


def states(trace: TraceService, task_id: str) -> list[str]:
    table = schema.status_trace_log
    with trace.engine.connect() as c:
        rows = c.execute(
            sa.select(table.c.state, table.c.source)
            .where(table.c.task_id == task_id)
            .order_by(table.c.creation_time)
        ).all()
    return [state for state, _ in rows]


def idle_between_fires(harness: Harness, job: str) -> bool:
    """No task of ``job`` runs or is queued, and the next even-second fire is not imminent."""
    return (
        not harness.running(job)
        and not harness.registry.ready.counts().get(job)
        and len(harness.records(job)) % 3 == 0
        and 0.2 < time.time() % 2 < 1.4
    )


def stop_job(harness: Harness, job: str, runs: int) -> None:
    """Disable ``job`` after ``runs`` whole runs, between two fires (no run is cut short)."""
    wait_until(lambda: len(harness.records(job)) >= 3 * runs, 30, message=f"{runs} runs of {job}")
    wait_until(lambda: idle_between_fires(harness, job), 10, message="a pause between fires")
    harness.lifecycle.disable_job(job)
    wait_until(lambda: not harness.running(job), 15, message="no task of the job left")


def test_every_execution_of_a_sharded_job_is_one_row_with_its_status_trail(traced, db_url):
    harness = traced(db_url)
    harness.job("traced", shardingTotalCount=3, shardingItemParameters="0=a,1=b,2=c")
    harness.job("failing", cron=FAR_FUTURE, shardingItemParameters="0=fail", failover=False)
    harness.lifecycle.trigger("failing")
    stop_job(harness, "traced", 3)
    wait_until(
        lambda: harness.records("failing") and not harness.running("failing"), 20, message="the failing run"
    )
    assert harness.trace.writer.wait_idle(10)

    records = harness.records("traced")
    rows = {row["task_id"]: row for row in executions(harness.trace, "traced")}
    assert len(rows) == len(records) and set(rows) == {r.task_id for r in records}
    for record in records:
        row = rows[record.task_id]
        assert row["sharding_item"] == record.item
        assert row["is_success"] == 1 and row["complete_time"] >= row["start_time"]
        assert row["execution_source"] == "NORMAL_TRIGGER"
        assert row["hostname"] and row["ip"]
        assert states(harness.trace, record.task_id) == ["TASK_STAGING", "TASK_RUNNING", "TASK_FINISHED"]
    [failed] = executions(harness.trace, "failing")
    assert failed["is_success"] == 0 and "item 0 was told to fail" in failed["failure_cause"]
    assert states(harness.trace, failed["task_id"])[-1] == "TASK_FAILED"

    search = harness.trace.search.executions({"jobName": "traced", "per_page": "100"})
    assert search["total"] == len(records) and all(r["success"] for r in search["rows"])
    statistics = harness.trace.statistics
    statistics.run(time.time() + 120)  # close the minutes of this test
    since = statistics.local(time.time() - 600)
    per_minute = statistics.task_results(since)
    assert sum(r["successCount"] for r in per_minute) == len(records)
    assert sum(r["failedCount"] for r in per_minute) == 1


def test_a_postgresql_outage_mid_run_loses_and_doubles_nothing(traced):
    with PostgresServer() as server:
        harness = traced(server.url)
        harness.job("steady", shardingTotalCount=3)
        wait_until(lambda: len(harness.records("steady")) >= 3, 20, message="a first run")
        server.stop()
        down_at, before = time.monotonic(), len(harness.records("steady"))
        wait_until(
            lambda: time.monotonic() - down_at >= 20 and len(harness.records("steady")) >= before + 9,
            40,
            message="20 s and three more runs with the database down",
        )
        assert harness.trace.writer.failures > 0  # it did try, and failed, while the database was away
        server.start()
        stop_job(harness, "steady", len(harness.records("steady")) // 3)
        assert harness.trace.writer.wait_idle(30)
        records = harness.records("steady")
        rows = executions(harness.trace, "steady")
        assert sorted(r["task_id"] for r in rows) == sorted(r.task_id for r in records)
        assert all(r["is_success"] == 1 and r["complete_time"] is not None for r in rows)
        harness.trace.engine.dispose()


def test_a_removed_agent_gives_a_lost_row_and_a_failover_row_naming_the_original_task(traced, tmp_path):
    harness = traced(f"sqlite:///{tmp_path / 'failover.db'}", agents=1)
    harness.job("fo", cron=FAR_FUTURE, failover=True, jobParameter="sleep=3")
    harness.lifecycle.trigger("fo")
    [first] = wait_until(lambda: harness.records("fo"), 20, message="the shard to start")
    harness.cluster.add_agent()
    harness.settle()
    harness.cluster.remove_agent(first.task_id.split("@-@")[3])
    failover = wait_until(
        lambda: [r for r in harness.records("fo") if r.task_type == "FAILOVER"],
        20,
        message="the failover run",
    )[0]
    wait_until(lambda: not harness.running("fo"), 15, message="the failover to finish")
    assert harness.trace.writer.wait_idle(10)
    rows = {row["task_id"]: row for row in executions(harness.trace, "fo")}
    assert rows[first.task_id]["is_success"] == 0
    assert rows[first.task_id]["failure_cause"].split(":")[0] in (
        "TASK_LOST",
        "TASK_GONE",
        "TASK_GONE_BY_OPERATOR",
    )
    assert (
        rows[failover.task_id]["execution_source"] == "FAILOVER" and rows[failover.task_id]["is_success"] == 1
    )
    trail = harness.trace.search.status_traces({"taskId": failover.task_id, "per_page": "50"})["rows"]
    assert {row["originalTaskId"] for row in trail} == {first.task_id}
    assert {row["executionType"] for row in trail} == {"FAILOVER"}


def test_daemon_executions_are_sampled_by_the_apps_event_trace_sampling_count(traced, tmp_path):
    harness = traced(f"sqlite:///{tmp_path / 'daemon.db'}")
    harness.app("sampled", eventTraceSamplingCount=2)
    harness.job("every_second", appName="sampled", jobExecutionType="DAEMON", cron="0/1 * * * * ?")
    wait_until(lambda: len(harness.records("every_second")) >= 6, 30, message="six daemon executions")
    harness.lifecycle.disable_job("every_second")
    wait_until(lambda: not harness.running("every_second"), 15, message="the daemon task to end")
    assert harness.trace.writer.wait_idle(10)
    records = harness.records("every_second")
    traced_runs = [r for r in records if r.executions % 2 == 0]  # the executor traces every 2nd one
    rows = executions(harness.trace, "every_second")
    assert len(rows) == len(traced_runs)
    assert {row["task_id"] for row in rows} == {r.task_id for r in records}
    finished = [row for row in rows if row["is_success"] == 1]
    assert len(finished) >= len(traced_runs) - 1  # the last may have been cut by the disable's kill
    assert all(row["complete_time"] is not None for row in rows)


def test_a_leader_change_mid_run_keeps_every_execution_once_with_both_leaders_rows(traced, tmp_path):
    harness = traced(f"sqlite:///{tmp_path / 'leaders.db'}")
    harness.job("handover", cron=FAR_FUTURE, shardingTotalCount=3, jobParameter="sleep=2")
    harness.lifecycle.trigger("handover")
    wait_until(lambda: len(harness.records("handover")) == 3, 20, message="a first run under way")
    harness.settle()
    first = {r.task_id for r in harness.records("handover")}
    harness.stop_scheduler()  # tasks keep running; the next leader adopts them
    harness.start_scheduler()
    wait_until(lambda: not harness.running("handover"), 20, message="the adopted run to finish")
    harness.lifecycle.trigger("handover")
    wait_until(lambda: len(harness.records("handover")) == 6, 20, message="a run under the second leader")
    wait_until(lambda: not harness.running("handover"), 20, message="the second run to finish")
    assert harness.trace.writer.wait_idle(10)
    records = harness.records("handover")
    rows = {row["task_id"]: row for row in executions(harness.trace, "handover")}
    assert sorted(rows) == sorted(r.task_id for r in records)
    assert all(row["is_success"] == 1 for row in rows.values())
    for task_id in first:  # started under the first leader, finished under the second
        assert rows[task_id]["hostname"] and rows[task_id]["start_time"] < rows[task_id]["complete_time"]
        assert states(harness.trace, task_id)[0] == "TASK_STAGING"
        assert states(harness.trace, task_id)[-1] == "TASK_FINISHED"
