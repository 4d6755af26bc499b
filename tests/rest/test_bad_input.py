"""Every rejected request: the right status, a message naming the field, and nothing stored."""

import pytest
import requests

from tests.support import FOO_APP, FOO_JOB


def snapshot(api):
    get = lambda path: requests.get(api.base_url + path, timeout=10).json()  # noqa: E731
    return get("/api/app/list"), get("/api/job/jobs"), get("/api/job/tasks/ready")


@pytest.fixture
def seeded(api):
    """One app and one job exist, so that a bad request could damage them."""
    assert requests.post(api.base_url + "/api/app", json=FOO_APP, timeout=10).status_code == 204
    assert requests.post(api.base_url + "/api/job/register", json=FOO_JOB, timeout=10).status_code == 204
    return api


def without(body, key):
    return {k: v for k, v in body.items() if k != key}


NEW_JOB = {**FOO_JOB, "jobName": "new_job"}
NEW_APP = {**FOO_APP, "appName": "new_app"}

CASES = [
    # (id, method, path, body, status, field)
    ("app-missing-name", "POST", "/api/app", without(NEW_APP, "appName"), 400, "appName"),
    ("app-missing-url", "POST", "/api/app", without(NEW_APP, "appURL"), 400, "appURL"),
    (
        "app-missing-bootstrap",
        "POST",
        "/api/app",
        without(NEW_APP, "bootstrapScript"),
        400,
        "bootstrapScript",
    ),
    ("app-blank-bootstrap", "POST", "/api/app", {**NEW_APP, "bootstrapScript": " "}, 400, "bootstrapScript"),
    ("app-url-scheme", "POST", "/api/app", {**NEW_APP, "appURL": "ftp://h/app.tgz"}, 400, "appURL"),
    ("app-url-no-host", "POST", "/api/app", {**NEW_APP, "appURL": "http:///app.tgz"}, 400, "appURL"),
    ("app-cpu-too-small", "POST", "/api/app", {**NEW_APP, "cpuCount": 0.0001}, 400, "cpuCount"),
    ("app-memory-too-small", "POST", "/api/app", {**NEW_APP, "memoryMB": 0.5}, 400, "memoryMB"),
    ("app-memory-not-number", "POST", "/api/app", {**NEW_APP, "memoryMB": "lots"}, 400, "memoryMB"),
    (
        "app-sampling-negative",
        "POST",
        "/api/app",
        {**NEW_APP, "eventTraceSamplingCount": -1},
        400,
        "eventTraceSamplingCount",
    ),
    ("app-name-slash", "POST", "/api/app", {**NEW_APP, "appName": "a/b"}, 400, "appName"),
    ("app-name-delimiter", "POST", "/api/app", {**NEW_APP, "appName": "a@-@b"}, 400, "appName"),
    ("app-name-too-long", "POST", "/api/app", {**NEW_APP, "appName": "a" * 101}, 400, "appName"),
    ("app-name-dotdot", "POST", "/api/app", {**NEW_APP, "appName": ".."}, 400, "appName"),
    (
        "app-cache-not-bool",
        "POST",
        "/api/app",
        {**NEW_APP, "appCacheEnable": "sometimes"},
        400,
        "appCacheEnable",
    ),
    ("app-not-object", "POST", "/api/app", ["foo_app"], 400, "_schema"),
    ("app-update-unknown", "PUT", "/api/app", {"appName": "ghost", "appCacheEnable": False}, 404, None),
    ("app-update-bad-value", "PUT", "/api/app", {"appName": "foo_app", "cpuCount": -1}, 400, "cpuCount"),
    ("app-update-no-name", "PUT", "/api/app", {"appCacheEnable": False}, 400, "appName"),
    ("app-duplicate", "POST", "/api/app", FOO_APP, 409, None),
    ("job-missing-name", "POST", "/api/job/register", without(NEW_JOB, "jobName"), 400, "jobName"),
    ("job-missing-cron", "POST", "/api/job/register", without(NEW_JOB, "cron"), 400, "cron"),
    ("job-bad-cron", "POST", "/api/job/register", {**NEW_JOB, "cron": "0/5 * * * *  ? 1800"}, 400, "cron"),
    ("job-cron-garbage", "POST", "/api/job/register", {**NEW_JOB, "cron": "every minute"}, 400, "cron"),
    (
        "job-bad-time-zone",
        "POST",
        "/api/job/register",
        {**NEW_JOB, "timeZone": "Mars/Olympus"},
        400,
        "timeZone",
    ),
    (
        "job-missing-total",
        "POST",
        "/api/job/register",
        without(NEW_JOB, "shardingTotalCount"),
        400,
        "shardingTotalCount",
    ),
    (
        "job-total-zero",
        "POST",
        "/api/job/register",
        {**NEW_JOB, "shardingTotalCount": 0},
        400,
        "shardingTotalCount",
    ),
    (
        "job-total-fraction",
        "POST",
        "/api/job/register",
        {**NEW_JOB, "shardingTotalCount": "2.5"},
        400,
        "shardingTotalCount",
    ),
    ("job-cpu-too-small", "POST", "/api/job/register", {**NEW_JOB, "cpuCount": 0.0009}, 400, "cpuCount"),
    ("job-missing-cpu", "POST", "/api/job/register", without(NEW_JOB, "cpuCount"), 400, "cpuCount"),
    ("job-memory-too-small", "POST", "/api/job/register", {**NEW_JOB, "memoryMB": 0}, 400, "memoryMB"),
    ("job-missing-type", "POST", "/api/job/register", without(NEW_JOB, "jobType"), 400, "jobType"),
    ("job-unknown-type", "POST", "/api/job/register", {**NEW_JOB, "jobType": "HTTP"}, 400, "jobType"),
    (
        "job-unknown-execution-type",
        "POST",
        "/api/job/register",
        {**NEW_JOB, "jobExecutionType": "ONCE"},
        400,
        "jobExecutionType",
    ),
    ("job-simple-needs-class", "POST", "/api/job/register", without(NEW_JOB, "jobClass"), 400, "jobClass"),
    (
        "job-dataflow-needs-class",
        "POST",
        "/api/job/register",
        {**without(NEW_JOB, "jobClass"), "jobType": "DATAFLOW"},
        400,
        "jobClass",
    ),
    (
        "job-script-needs-command",
        "POST",
        "/api/job/register",
        {**NEW_JOB, "jobType": "SCRIPT"},
        400,
        "scriptCommandLine",
    ),
    (
        "job-bean-without-context",
        "POST",
        "/api/job/register",
        {**NEW_JOB, "beanName": "b"},
        400,
        "applicationContext",
    ),
    (
        "job-context-without-bean",
        "POST",
        "/api/job/register",
        {**NEW_JOB, "applicationContext": "ctx"},
        400,
        "beanName",
    ),
    (
        "job-params-format",
        "POST",
        "/api/job/register",
        {**NEW_JOB, "shardingItemParameters": "0:a"},
        400,
        "shardingItemParameters",
    ),
    (
        "job-params-not-int",
        "POST",
        "/api/job/register",
        {**NEW_JOB, "shardingItemParameters": "x=a"},
        400,
        "shardingItemParameters",
    ),
    (
        "job-params-out-of-range",
        "POST",
        "/api/job/register",
        {**NEW_JOB, "shardingItemParameters": "5=a"},
        400,
        "shardingItemParameters",
    ),
    (
        "job-params-negative",
        "POST",
        "/api/job/register",
        {**NEW_JOB, "shardingItemParameters": "-1=a"},
        400,
        "shardingItemParameters",
    ),
    (
        "job-params-duplicate",
        "POST",
        "/api/job/register",
        {**NEW_JOB, "shardingItemParameters": "0=a,0=b"},
        400,
        "shardingItemParameters",
    ),
    ("job-unknown-app", "POST", "/api/job/register", {**NEW_JOB, "appName": "ghost_app"}, 404, "appName"),
    ("job-name-delimiter", "POST", "/api/job/register", {**NEW_JOB, "jobName": "x@-@1"}, 400, "jobName"),
    ("job-name-slash", "POST", "/api/job/register", {**NEW_JOB, "jobName": "x/y"}, 400, "jobName"),
    ("job-duplicate", "POST", "/api/job/register", FOO_JOB, 409, None),
    # a 2.0-style body (no appName, an appURL) would create app 'foo_job': not when the job exists
    (
        "job-implicit-app-duplicate",
        "POST",
        "/api/job/register",
        {**without(FOO_JOB, "appName"), "appURL": "http://h/foo_job.tgz"},
        409,
        None,
    ),
    ("job-update-unknown", "PUT", "/api/job/update", {**FOO_JOB, "jobName": "ghost"}, 404, None),
    (
        "job-update-bad-cron",
        "PUT",
        "/api/job/update",
        {"jobName": "foo_job", "cron": "61 * * * * ?"},
        400,
        "cron",
    ),
    (
        "job-update-unknown-app",
        "PUT",
        "/api/job/update",
        {"jobName": "foo_job", "appName": "ghost"},
        404,
        "appName",
    ),
    (
        "job-update-params-vs-total",
        "PUT",
        "/api/job/update",
        {"jobName": "foo_job", "shardingTotalCount": 1, "shardingItemParameters": "0=a,3=b"},
        400,
        "shardingItemParameters",
    ),
    ("job-detail-unknown", "GET", "/api/job/jobs/ghost", None, 404, None),
    ("app-detail-unknown", "GET", "/api/app/ghost", None, 404, None),
    (
        "legacy-missing-url",
        "POST",
        "/job/register",
        {"jobName": "p", "cron": "0 * * * * ?", "shardingTotalCount": 1, "cpuCount": 1, "memoryMB": 1},
        400,
        "appURL",
    ),
    (
        "legacy-bad-cron",
        "POST",
        "/job/register",
        {
            "jobName": "p",
            "cron": "nope",
            "shardingTotalCount": 1,
            "cpuCount": 1,
            "memoryMB": 1,
            "appURL": "http://h/p.sh",
        },
        400,
        "cron",
    ),
]


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "field"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_rejected_and_nothing_changes(seeded, method, path, body, status, field):
    before = snapshot(seeded)
    response = requests.request(method, seeded.base_url + path, json=body, timeout=10)
    assert response.status_code == status, response.text
    payload = response.json()
    assert payload["message"]
    if field is not None:
        assert field in payload["errors"], payload
        assert payload["errors"][field] and all(isinstance(m, str) and m for m in payload["errors"][field])
        if field != "_schema":
            assert field in payload["message"]
    assert snapshot(seeded) == before


@pytest.mark.parametrize("raw", ["{not json", '{"appName": ', "null", "", "[1,"])
@pytest.mark.parametrize("path", ["/api/app", "/api/job/register", "/job/register"])
def test_malformed_json_is_400(seeded, path, raw):
    before = snapshot(seeded)
    response = requests.post(
        seeded.base_url + path, data=raw, headers={"Content-Type": "application/json"}, timeout=10
    )
    assert response.status_code == 400
    assert response.json()["message"]
    assert snapshot(seeded) == before


def test_no_stack_trace_reaches_the_client(seeded):
    response = requests.post(seeded.base_url + "/api/job/register", data="{", timeout=10)
    assert "Traceback" not in response.text and 'File "' not in response.text
