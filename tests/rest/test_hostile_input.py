"""The hostile list of issue #12, rerun: every case is a 4xx naming the field, and the whole
ZooKeeper tree is byte for byte the same afterwards; the session (and so the leadership) survives."""

import http.client
import json

import pytest
import requests

from tests.support import FOO_APP, FOO_JOB


def zk_dump(api):
    """Every node under the stack's namespace with its data (path → bytes)."""
    client = api.connection.client
    found = {}

    def walk(path):
        data, _ = client.get(path)
        found[path] = data
        for child in client.get_children(path):
            walk(f"{path.rstrip('/')}/{child}")

    walk("/")
    return found


@pytest.fixture
def seeded(api):
    assert requests.post(api.base_url + "/api/app", json=FOO_APP, timeout=10).status_code == 204
    assert requests.post(api.base_url + "/api/job/register", json=FOO_JOB, timeout=10).status_code == 204
    assert requests.post(api.base_url + "/api/job/trigger", data="foo_job", timeout=10).status_code == 204
    return api


def raw_request(api, method, path, body=b""):
    """http.client, so a path such as ``/api/app/..`` is sent exactly as written (as curl --path-as-is)."""
    host, port = api.base_url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=20)
    try:
        connection.request(method, path, body=body, headers={"Content-Type": "application/json"})
        response = connection.getresponse()
        return response.status, response.read(), dict(response.getheaders())
    finally:
        connection.close()


def as_body(value):
    if isinstance(value, bytes):
        return value
    return json.dumps(value).encode()


BAD_NAMES = [".", "..", "./", "a/..", "../x", "/", "a\x00b", "\ud800", "x" * 10_000, "list@-@1", " "]
NAME_BODIES = [
    ("POST", "/api/job/trigger", "jobName"),
    ("DELETE", "/api/job/deregister", "jobName"),
    ("DELETE", "/job/unregister", "jobName"),
]


def name_cases():
    for index, name in enumerate(BAD_NAMES):
        encoded = name.encode("utf-8", "surrogatepass")
        for method, path, field in NAME_BODIES:
            yield f"body-{path}-{index}", method, path, encoded, field
            yield f"quoted-body-{path}-{index}", method, path, json.dumps(name).encode(), field
        yield f"put-app-{index}", "PUT", "/api/app", as_body({"appName": name, "cpuCount": 1}), "appName"
        yield (
            f"put-job-{index}",
            "PUT",
            "/api/job/update",
            as_body({"jobName": name, "cron": "0 * * * * ?"}),
            "jobName",
        )
        yield f"post-app-{index}", "POST", "/api/app", as_body({**FOO_APP, "appName": name}), "appName"
        yield (
            f"post-job-{index}",
            "POST",
            "/api/job/register",
            as_body({**FOO_JOB, "jobName": name}),
            "jobName",
        )


SEGMENTS = ["%2E", "%2e%2e", ".", "..", "a%00b", "%ED%A0%80", "x" * 5000, "list@-@x", "%20"]


def segment_cases():
    for index, segment in enumerate(SEGMENTS):
        for method, template, field in [
            ("GET", "/api/app/{}", "appName"),
            ("DELETE", "/api/app/{}", "appName"),
            ("GET", "/api/app/{}/disable", "appName"),
            ("POST", "/api/app/{}/disable", "appName"),
            ("DELETE", "/api/app/{}/disable", "appName"),
            ("POST", "/api/app/{}/enable", "appName"),
            ("GET", "/api/job/jobs/{}", "jobName"),
            ("DELETE", "/api/job/{}/deregister", "jobName"),
            ("GET", "/api/job/{}/disable", "jobName"),
            ("POST", "/api/job/{}/disable", "jobName"),
            ("POST", "/api/job/{}/enable", "jobName"),
            ("GET", "/api/job/jobs/{}/next-fire-times", "jobName"),
            ("GET", "/api/operate/sandbox?appName={}", "appName"),
        ]:
            yield f"segment-{method}-{template}-{index}", method, template.format(segment), b"", field


JOB = dict(FOO_JOB, jobName="new_job")
APP = dict(FOO_APP, appName="new_app")

VALUE_CASES = [
    # (id, method, path, body, field)
    ("nested-brackets", "POST", "/api/app", b"[" * 100_000, "_schema"),
    ("nan-literal", "POST", "/api/app", b'{"appName":"n","cpuCount":NaN}', "_schema"),
    ("ipv6-url", "POST", "/api/app", as_body({**APP, "appURL": "http://[::1"}), "appURL"),
    ("bad-port", "POST", "/api/app", as_body({**APP, "appURL": "http://h:99999/a.tgz"}), "appURL"),
    (
        "put-app-types",
        "PUT",
        "/api/app",
        as_body({"appName": "foo_app", "bootstrapScript": -1966, "cpuCount": 1.4e15, "zz": 1}),
        "bootstrapScript",
    ),
    ("put-app-cpu", "PUT", "/api/app", as_body({"appName": "foo_app", "cpuCount": 1.4e15}), "cpuCount"),
    (
        "cron-overflow-count",
        "GET",
        "/api/cron/preview?cron=0/5+*+*+*+*+?&count=99999999999999999999",
        b"",
        "count",
    ),
    ("cron-full-width-count", "GET", "/api/cron/preview?cron=0/5+*+*+*+*+?&count=%EF%BC%93", b"", "count"),
    ("cron-preview-full-width", "GET", "/api/cron/preview?cron=%EF%BC%90+*+*+*+*+?", b"", "cron"),
    *[
        (
            f"total-{value}",
            "POST",
            "/api/job/register",
            as_body({**JOB, "shardingTotalCount": value}),
            "shardingTotalCount",
        )
        for value in (10_001, 1_000_000, 2**31, 2**63, 10**30, 3.5, "3.5", True, "\uff13", "1e400", [1])
    ],
    *[
        (f"cpu-{value}", "POST", "/api/job/register", as_body({**JOB, "cpuCount": value}), "cpuCount")
        for value in (1e308, 1025, "1e308", False, "\uff10.\uff15", "0x10", "")
    ],
    ("memory-huge", "POST", "/api/job/register", as_body({**JOB, "memoryMB": 1e12}), "memoryMB"),
    ("app-cpu-huge", "POST", "/api/app", as_body({**APP, "cpuCount": 1e308}), "cpuCount"),
    *[
        (
            f"sampling-{value}",
            "POST",
            "/api/app",
            as_body({**APP, "eventTraceSamplingCount": value}),
            "eventTraceSamplingCount",
        )
        for value in (1.5, 10**30, 2**31, -1, "many")
    ],
    *[
        (f"bool-{value}", "POST", "/api/job/register", as_body({**JOB, "failover": value}), "failover")
        for value in ("yes", 1, 0, "1", "on", None)
    ],
    ("app-cache-yes", "POST", "/api/app", as_body({**APP, "appCacheEnable": "yes"}), "appCacheEnable"),
    ("cron-full-width", "POST", "/api/job/register", as_body({**JOB, "cron": "\uff10 * * * * ?"}), "cron"),
    ("cron-arabic-digits", "POST", "/api/job/register", as_body({**JOB, "cron": "\u0660 * * * * ?"}), "cron"),
    (
        "job-properties-type",
        "POST",
        "/api/job/register",
        as_body({**JOB, "jobProperties": 5}),
        "jobProperties",
    ),
    (
        "job-properties-field",
        "POST",
        "/api/job/register",
        as_body({**JOB, "jobProperties": {"job_exception_handler": 5}}),
        "jobProperties.job_exception_handler",
    ),
    ("job-class-type", "POST", "/api/job/register", as_body({**JOB, "jobClass": 5}), "jobClass"),
    (
        "description-nul",
        "POST",
        "/api/job/register",
        as_body({**JOB, "description": "a\x00b"}),
        "description",
    ),
    (
        "description-surrogate",
        "POST",
        "/api/job/register",
        b'{"jobName":"s","description":"\\ud800"}',
        "description",
    ),
    (
        "script-surrogate",
        "POST",
        "/api/job/register",
        as_body({**JOB, "jobType": "SCRIPT", "scriptCommandLine": "\ud800"}),
        "scriptCommandLine",
    ),
    *[
        (f"long-{field}", "POST", "/api/job/register", as_body({**JOB, field: "p" * (limit + 1)}), field)
        for field, limit in (("description", 8192), ("jobParameter", 32768), ("jobClass", 1024))
    ],
    (
        "long-bootstrap",
        "POST",
        "/api/app",
        as_body({**APP, "bootstrapScript": "b" * 8193}),
        "bootstrapScript",
    ),
    ("long-url", "POST", "/api/app", as_body({**APP, "appURL": "http://h/" + "u" * 4096}), "appURL"),
    (
        "update-description-long",
        "PUT",
        "/api/job/update",
        as_body({"jobName": "foo_job", "description": "d" * 8193}),
        "description",
    ),
    (
        "params-full-width",
        "POST",
        "/api/job/register",
        as_body({**JOB, "shardingItemParameters": "\uff11=a"}),
        "shardingItemParameters",
    ),
    (
        "legacy-total",
        "POST",
        "/job/register",
        as_body(
            {
                "jobName": "p",
                "cron": "0 * * * * ?",
                "shardingTotalCount": 10**30,
                "cpuCount": 1,
                "memoryMB": 1,
                "appURL": "http://h/p",
            }
        ),
        "shardingTotalCount",
    ),
    ("reserved-app-name", "POST", "/api/app", as_body({**APP, "appName": "list"}), "appName"),
    (
        "update-breaks-rule",
        "PUT",
        "/api/job/update",
        as_body({"jobName": "foo_job", "jobType": "SCRIPT"}),
        "scriptCommandLine",
    ),
    ("update-app-empty", "PUT", "/api/job/update", as_body({"jobName": "foo_job", "appName": ""}), "appName"),
    ("name-body-null", "DELETE", "/api/job/deregister", b"null", "jobName"),
    ("name-body-number", "POST", "/api/job/trigger", b"42", "jobName"),
    (
        "legacy-null-misfire",
        "POST",
        "/job/register",
        as_body(
            {
                "jobName": "p",
                "cron": "0 * * * * ?",
                "shardingTotalCount": 1,
                "cpuCount": 1,
                "memoryMB": 1,
                "appURL": "http://h/p",
                "misfire": None,
            }
        ),
        "misfire",
    ),
    ("unknown-app", "POST", "/api/job/register", as_body({**JOB, "appName": "ghost"}), "appName"),
    ("reserved-job-name", "POST", "/api/job/register", as_body({**JOB, "jobName": "jobs"}), "jobName"),
]


ALL_CASES = [*name_cases(), *segment_cases(), *VALUE_CASES]


@pytest.mark.parametrize(
    ("method", "path", "body", "field"), [c[1:] for c in ALL_CASES], ids=[c[0] for c in ALL_CASES]
)
def test_hostile_request_is_a_4xx_naming_the_field_and_changes_nothing(seeded, method, path, body, field):
    before = zk_dump(seeded)
    session = seeded.connection.client.client_id
    status, raw, _ = raw_request(seeded, method, path, body)
    assert 400 <= status < 500, (status, raw[:300])
    payload = json.loads(raw)
    assert field in payload["errors"], payload
    assert len(payload["message"]) < 1000  # an echoed 10,000-character name is cut
    assert zk_dump(seeded) == before
    assert seeded.connection.client.client_id == session and seeded.connection.client.connected


@pytest.mark.parametrize(
    "path",
    [
        "/api/app/%2F",
        "/api/app/%2F/disable",
        "/api/job/%2F/deregister",
        "/api/job/jobs/%2F",
        "/api/app/a%2F..",
    ],
)
def test_a_slash_in_a_segment_matches_no_route(seeded, path):
    """An encoded ``/`` splits the segment: no route, a 404 (not a redirect elsewhere), nothing changes."""
    before = zk_dump(seeded)
    for method in ("GET", "POST", "DELETE"):
        status, raw, _ = raw_request(seeded, method, path)
        assert status in (404, 405), (method, status, raw[:200])
    assert zk_dump(seeded) == before


def test_a_body_over_the_limit_is_413_and_changes_nothing(seeded):
    before = zk_dump(seeded)
    body = as_body({**JOB, "description": "x" * 1_100_000})
    status, raw, _ = raw_request(seeded, "POST", "/api/job/register", body)
    assert status == 413
    assert "at most 262144 bytes" in json.loads(raw)["message"]
    assert zk_dump(seeded) == before
    # the session, and so a leader's election node, survived: the API still writes
    assert requests.post(seeded.base_url + "/api/app", json=APP, timeout=10).status_code == 204


def test_cron_preview_at_the_end_of_time_is_an_empty_list(api):
    response = requests.get(
        api.base_url + "/api/cron/preview",
        params={"cron": "0/5 * * * * ?", "after": "9999-12-31T23:59:59", "timeZone": "Asia/Tokyo"},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    assert response.json()["next"] == []


def test_numeric_strings_and_boolean_strings_are_still_accepted(api):
    app = {
        **APP,
        "cpuCount": "0.5",
        "memoryMB": "64",
        "eventTraceSamplingCount": "3",
        "appCacheEnable": "false",
    }
    assert requests.post(api.base_url + "/api/app", json=app, timeout=10).status_code == 204
    job = {
        **JOB,
        "appName": "new_app",
        "shardingTotalCount": "3",
        "cpuCount": "0.25",
        "memoryMB": 32,
        "failover": "true",
    }
    assert requests.post(api.base_url + "/api/job/register", json=job, timeout=10).status_code == 204
    stored_app = requests.get(api.base_url + "/api/app/new_app", timeout=10).json()
    assert (stored_app["cpuCount"], stored_app["eventTraceSamplingCount"], stored_app["appCacheEnable"]) == (
        0.5,
        3,
        False,
    )
    stored = requests.get(api.base_url + "/api/job/jobs/new_job", timeout=10).json()
    assert (stored["shardingTotalCount"], stored["cpuCount"], stored["failover"]) == (3, 0.25, True)


def test_a_wrong_type_gives_one_clear_message(api):
    requests.post(api.base_url + "/api/app", json=FOO_APP, timeout=10)
    response = requests.post(api.base_url + "/api/job/register", json={**FOO_JOB, "jobClass": 5}, timeout=10)
    assert response.json()["errors"] == {"jobClass": ["must be a string, got 5"]}
    assert "is required" not in response.json()["message"]
