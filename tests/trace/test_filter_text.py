"""A history or audit filter holding a NUL is a 400 naming it, on SQLite and on PostgreSQL (found by
the hostile follow-up of ``benchmarks/api_fuzz.py``): PostgreSQL refuses a NUL even in a comparison,
so the query failed and the client read 503 "the event trace database cannot be reached"."""

from __future__ import annotations

import pytest
import requests

FILTERS = [
    ("/api/job/events/executions", "jobName"),
    ("/api/job/events/executions", "hostname"),
    ("/api/job/events/statusTraces", "taskId"),
    ("/api/job/events/statusTraces", "state"),
    ("/api/audit", "username"),
    ("/api/audit", "path"),
]


@pytest.fixture
def traced(zk_hosts, db_url):
    from elasticjob_cloud.bootstrap import start_api
    from elasticjob_cloud.settings import Settings

    settings = Settings(zk_servers=zk_hosts, http_port=0, hostname="127.0.0.1", event_trace_rdb_url=db_url)
    stack = start_api(settings, host="127.0.0.1", run_scheduler=False)
    yield f"http://127.0.0.1:{stack.rest.port}"
    stack.stop()


def test_a_nul_in_a_filter_is_a_400_naming_it(traced):
    for path, name in FILTERS:
        answer = requests.get(traced + path, params={name: "a\x00b"}, timeout=10)
        assert answer.status_code == 400, (path, name, answer.status_code, answer.text)
        assert answer.json()["errors"] == {name: ["must not contain NUL characters"]}
        assert requests.get(traced + path, params={name: "ab"}, timeout=10).status_code == 200
    document = requests.get(traced + "/api/openapi.json", timeout=10).json()
    audit = {p["name"]: p["schema"] for p in document["paths"]["/api/audit"]["get"]["parameters"]}
    assert audit["username"]["pattern"] == audit["path"]["pattern"] == "^[^\\x00]*$"
