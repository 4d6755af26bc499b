"""``/api/job/events/*``, ``/api/job/statistics/*`` and a job's executions over real HTTP."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import partial

import pytest
import requests

from .test_store_contract import execution, status

CONSOLE_QUERIES = [
    "/api/job/events/executions?per_page=10&page=1&order=asc&jobName=&taskId=&startTime=&endTime=&ip=&isSuccess=",
    "/api/job/events/statusTraces?per_page=10&page=1&order=asc&jobName=&taskId=&slaveId=&source="
    "&executionType=&state=&startTime=&endTime=",
    "/api/job/statistics/tasks/results/lastMinute",
    "/api/job/statistics/tasks/results/lastHour",
    "/api/job/statistics/tasks/results/lastWeek",
    "/api/job/statistics/tasks/results?since=last24hours",
    "/api/job/statistics/jobs/running?since=lastWeek",
    "/api/job/statistics/tasks/running?since=lastWeek",
    "/api/job/statistics/jobs/register",
]


# The trace's clock (its statistics passes and the queries' "now"), in its zone (UTC): mid-day, so
# the rows written, the pass and the queries fall in one minute, hour and day whenever the test runs
# (on the real clock a pass just before midnight and the queries just after it fell on two days).
NOW = datetime(2026, 6, 10, 12, 0, 0)


@pytest.fixture
def traced_api(zk_hosts, db_url, tmp_path, monkeypatch):
    from elasticjob_cloud import bootstrap
    from elasticjob_cloud.bootstrap import start_api
    from elasticjob_cloud.settings import Settings
    from elasticjob_cloud.trace.service import TraceService

    fixed = NOW.replace(tzinfo=UTC).timestamp()
    monkeypatch.setattr(bootstrap, "TraceService", partial(TraceService, clock=lambda: fixed))
    stack = start_api(
        Settings(
            zk_servers=zk_hosts,
            http_port=0,
            hostname="127.0.0.1",
            time_zone="UTC",
            event_trace_rdb_url=db_url,
            event_trace_journal=str(tmp_path / "journal"),
        ),
        host="127.0.0.1",
        run_scheduler=False,
    )
    stack.base_url = f"http://127.0.0.1:{stack.rest.port}"
    yield stack
    stack.stop()


def test_the_original_consoles_queries_answer_with_its_shapes(traced_api):
    start = NOW - timedelta(minutes=3)
    traced_api.trace.store.write(
        [
            execution("t1", start, start + timedelta(seconds=2)),
            execution("t2", start, start + timedelta(seconds=3), success=False, cause="it broke"),
            status("t1", "TASK_FINISHED", start),
        ]
    )
    traced_api.trace.statistics.run()
    answers = {}
    for query in CONSOLE_QUERIES:
        response = requests.get(traced_api.base_url + query, timeout=10)
        assert response.status_code == 200, (query, response.text)
        answers[query] = response.json()
    executions = answers[CONSOLE_QUERIES[0]]
    assert executions["total"] == 2
    failed = next(r for r in executions["rows"] if r["taskId"] == "t2")
    assert failed["success"] is False and failed["failureCause"] == {"plainText": "it broke"}
    assert answers[CONSOLE_QUERIES[1]]["rows"][0]["state"] == "TASK_FINISHED"
    per_minute = answers[CONSOLE_QUERIES[5]]
    assert sum(r["successCount"] for r in per_minute) == 1 and sum(r["failedCount"] for r in per_minute) == 1
    assert set(per_minute[0]) == {
        "id",
        "successCount",
        "failedCount",
        "statisticInterval",
        "statisticsTime",
        "creationTime",
    }
    week = answers[CONSOLE_QUERIES[4]]
    assert (week["successCount"], week["failedCount"], week["statisticInterval"]) == (1, 1, "DAY")
    assert answers[CONSOLE_QUERIES[8]][0]["registeredCount"] == 0
    assert set(answers[CONSOLE_QUERIES[6]][0]) == {"id", "runningCount", "statisticsTime", "creationTime"}
    runs = requests.get(traced_api.base_url + "/api/job/jobs/job_a/executions?limit=5", timeout=10).json()
    assert [e["durationMs"] for e in runs["executions"]] in ([2000, 3000], [3000, 2000])
    assert runs["duration"]["count"] == 2


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ("/api/job/events/executions?sort=nope", "sort"),
        ("/api/job/events/executions?startTime=31/12/2025", "startTime"),
        ("/api/job/events/statusTraces?per_page=x", "per_page"),
        ("/api/job/events/statusTraces?order=up", "order"),
        ("/api/job/statistics/tasks/results?since=forever", "since"),
        ("/api/job/statistics/tasks/results/lastYear", "period"),
        ("/api/job/statistics/jobs/running?since=x", "since"),
        ("/api/job/jobs/job_a/executions?limit=0", "limit"),
    ],
)
def test_bad_parameters_are_400_naming_the_parameter(traced_api, query, named):
    response = requests.get(traced_api.base_url + query, timeout=10)
    assert response.status_code == 400
    assert named in response.json()["errors"]


def test_without_a_trace_database_the_original_endpoints_answer_empty(api):
    base = api.base_url
    assert requests.get(base + CONSOLE_QUERIES[0], timeout=10).json() == {"total": 0, "rows": []}
    assert requests.get(base + CONSOLE_QUERIES[1], timeout=10).json() == {"total": 0, "rows": []}
    assert requests.get(base + CONSOLE_QUERIES[5], timeout=10).json() == []
    assert requests.get(base + CONSOLE_QUERIES[2], timeout=10).json()["successCount"] == 0
    response = requests.get(base + "/api/job/jobs/job_a/executions", timeout=10)
    assert response.status_code == 503 and "event_trace_rdb_url" in response.json()["message"]


def test_every_trace_route_is_in_the_openapi_document(api):
    paths = requests.get(api.base_url + "/api/openapi.json", timeout=10).json()["paths"]
    for path in (
        "/api/job/events/executions",
        "/api/job/events/statusTraces",
        "/api/job/jobs/{jobName}/executions",
        "/api/job/statistics/tasks/results",
        "/api/job/statistics/tasks/results/{period}",
        "/api/job/statistics/tasks/running",
        "/api/job/statistics/jobs/running",
        "/api/job/statistics/jobs/register",
    ):
        assert "get" in paths[path], path
