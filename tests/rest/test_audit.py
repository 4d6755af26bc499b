"""The audit log over real HTTP: what is recorded, with secrets removed, and how it is read back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from elasticjob_cloud.core.ports import AuditEntry, AuditQuery
from elasticjob_cloud.registry import Registry
from elasticjob_cloud.registry.zookeeper import KazooTree
from elasticjob_cloud.rest.audit import MAX_BODY, MemoryAuditLog, safe_body
from elasticjob_cloud.rest.credentials import Authenticator
from tests.rest.test_auth import ADMIN, VIEWER, AuthApi, accounts
from tests.rest.test_operations import stop
from tests.support import FOO_APP, FOO_JOB


@pytest.fixture
def api(zk_connection):
    started = AuthApi(Registry.over(KazooTree(zk_connection)), Authenticator(accounts()))
    yield started
    stop(started.server)


def rows(api, **params):
    answer = api.call("GET", "/api/audit", params=params, auth=VIEWER)
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_accepted_writes_are_recorded_refused_ones_and_reads_are_not(api):
    assert api.call("POST", "/api/app", FOO_APP, auth=ADMIN).status_code == 204
    assert api.call("POST", "/api/app", FOO_APP, auth=ADMIN).status_code == 409  # refused: not recorded
    assert api.call("POST", "/api/job/register", {**FOO_JOB, "cron": "bad"}, auth=ADMIN).status_code == 400
    assert api.call("POST", "/api/app", FOO_APP, auth=VIEWER).status_code == 403
    assert api.call("POST", "/api/app", FOO_APP).status_code == 401
    assert api.call("GET", "/api/app/list", auth=ADMIN).status_code == 200
    assert api.call("POST", "/api/login", {"username": ADMIN[0], "password": ADMIN[1]}).status_code == 200
    api.clock.advance(5)
    change = {"appName": "foo_app", "appCacheEnable": False}
    assert api.call("PUT", "/api/app?x=1", change, auth=ADMIN).status_code == 204
    answer = rows(api)
    assert answer["total"] == 2
    newest, oldest = answer["rows"]
    assert newest == {
        "creationTime": "2026-01-01T00:00:05+00:00",
        "username": "admin",
        "role": "admin",
        "address": "127.0.0.1",
        "method": "PUT",
        "path": "/api/app?x=1",
        "status": 204,
        "body": '{"appName":"foo_app","appCacheEnable":false}',
    }
    assert oldest["path"] == "/api/app" and oldest["body"].startswith('{"appName":"foo_app"')


def test_paging_and_filters(api):
    for i in range(12):
        assert api.call("POST", "/api/app", {**FOO_APP, "appName": f"app_{i}"}, auth=ADMIN).status_code == 204
        api.clock.advance(60)
    assert api.call("DELETE", "/api/app/app_3", auth=ADMIN).status_code == 204
    first = rows(api)
    assert first["total"] == 13 and len(first["rows"]) == 10  # the history endpoints' default page
    assert first["rows"][0]["method"] == "DELETE"
    second = rows(api, page=2)
    assert [r["body"][:18] for r in second["rows"]] == [
        '{"appName":"app_2"',
        '{"appName":"app_1"',
        '{"appName":"app_0"',
    ]
    assert rows(api, method="DELETE")["total"] == 1
    assert rows(api, path="/api/app/app_3")["total"] == 1
    assert rows(api, path="/api/app")["total"] == 13  # a prefix
    assert rows(api, username="viewer")["total"] == 0
    # 2026-01-01 00:00 UTC + i minutes; startTime/endTime in the scheduler's zone (UTC here)
    window = rows(api, startTime="2026-01-01 00:02:00", endTime="2026-01-01 00:04:00")
    assert window["total"] == 3


@pytest.mark.parametrize(
    "params,field",
    [({"page": "0"}, "page"), ({"per_page": "x"}, "per_page"), ({"startTime": "yesterday"}, "startTime")],
)
def test_bad_parameters_are_400_naming_them(api, params, field):
    answer = api.call("GET", "/api/audit", params=params, auth=VIEWER)
    assert answer.status_code == 400 and field in answer.json()["errors"]


def test_the_audit_log_needs_a_login(api):
    assert api.call("GET", "/api/audit").status_code == 401


def test_secrets_are_removed_from_recorded_bodies():
    body = '{"appName":"a","auth_password":"p1","nested":{"accessToken":"t","list":[{"clientSecret":"s"}]}}'
    kept = safe_body(body)
    assert "p1" not in kept and '"t"' not in kept and '"s"' not in kept
    assert kept == (
        '{"appName":"a","auth_password":"***","nested":{"accessToken":"***","list":[{"clientSecret":"***"}]}}'
    )
    assert safe_body('{"password": "x", broken') == "(malformed JSON not kept)"
    assert safe_body("foo_job") == "foo_job"
    assert len(safe_body('"' + "x" * 10_000 + '"')) == MAX_BODY


def test_memory_log_keeps_the_last_entries_newest_first():
    log = MemoryAuditLog(limit=3)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for i in range(5):
        log.record(AuditEntry(start + timedelta(seconds=i), "u", "admin", "a", "POST", f"/p/{i}", 204, ""))
    total, found = log.search(AuditQuery({}, None, None, 0, 10))
    assert total == 3 and [e.path for e in found] == ["/p/4", "/p/3", "/p/2"]
