"""Authentication and roles over real HTTP (waitress) and a real ZooKeeper.

Every write route of Flask's ``url_map`` is sent without credentials, as the viewer and as the
admin: 401 / 403 / 2xx. A route added later and missing from ``WRITE_CALLS`` fails the test, so no
route escapes the check.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import requests

from elasticjob_cloud.lifecycle import Lifecycle
from elasticjob_cloud.registry import Registry
from elasticjob_cloud.registry.zookeeper import KazooTree
from elasticjob_cloud.rest.app import Services, create_app
from elasticjob_cloud.rest.auth import SAFE_METHODS
from elasticjob_cloud.rest.credentials import (
    Account,
    Accounts,
    Authenticator,
    FailureLimiter,
    Role,
    build_authenticator,
    configured_accounts,
    hash_password,
)
from elasticjob_cloud.rest.server import RestServer
from elasticjob_cloud.settings import Settings, SettingsError
from tests.rest.test_operations import Clock, FakeControl, stop
from tests.support import FOO_APP, FOO_JOB

ADMIN = ("admin", "s3cret-admin")
VIEWER = ("viewer", "s3cret-viewer")

# Every write route, in an order in which the admin's calls all succeed: (method, path, body).
WRITE_CALLS: list[tuple[str, str, str, Any]] = [
    ("POST", "/api/app", "/api/app", FOO_APP),
    ("PUT", "/api/app", "/api/app", {"appName": "foo_app", "appCacheEnable": False}),
    ("POST", "/api/job/register", "/api/job/register", FOO_JOB),
    ("PUT", "/api/job/update", "/api/job/update", {"jobName": "foo_job", "cron": "0 0 * * * ?"}),
    ("POST", "/api/job/trigger", "/api/job/trigger", "foo_job"),
    ("POST", "/api/job/<job:job_name>/disable", "/api/job/foo_job/disable", None),
    ("DELETE", "/api/job/<job:job_name>/disable", "/api/job/foo_job/disable", None),
    ("POST", "/api/job/<job:job_name>/enable", "/api/job/foo_job/enable", None),
    ("POST", "/api/app/<app:app_name>/disable", "/api/app/foo_app/disable", None),
    ("DELETE", "/api/app/<app:app_name>/disable", "/api/app/foo_app/disable", None),
    ("POST", "/api/app/<app:app_name>/enable", "/api/app/foo_app/enable", None),
    ("POST", "/api/operate/reconcile/explicit", "/api/operate/reconcile/explicit", None),
    ("POST", "/api/operate/reconcile/implicit", "/api/operate/reconcile/implicit", None),
    ("DELETE", "/api/job/deregister", "/api/job/deregister", "foo_job"),
    ("POST", "/api/job/register", "/api/job/register", {**FOO_JOB, "jobName": "bar_job"}),
    ("DELETE", "/api/job/<job:job_name>/deregister", "/api/job/bar_job/deregister", None),
    ("POST", "/job/register", "/job/register", {**FOO_JOB, "jobName": "legacy_job", "appURL": "http://h/a"}),
    ("DELETE", "/job/unregister", "/job/unregister", "legacy_job"),
    ("DELETE", "/api/app/<app:app_name>", "/api/app/foo_app", None),
]
# Writes any signed-in user may make about their own session, and the login routes themselves.
SELF_SERVICE = {("POST", "/api/login"), ("POST", "/api/auth/session"), ("DELETE", "/api/auth/session")}


class AuthApi:
    def __init__(self, registry: Registry, auth: Authenticator | None):
        self.clock = Clock()
        services = Services(Lifecycle(registry), clock=self.clock, control=FakeControl(), auth=auth)
        self.app = create_app(services)
        self.server = RestServer(self.app, host="127.0.0.1", port=0).start()
        self.base_url = f"http://127.0.0.1:{self.server.port}"

    def call(self, method: str, path: str, body: Any = None, **kwargs: Any) -> requests.Response:
        if isinstance(body, str):
            kwargs["data"] = body
        elif body is not None:
            kwargs["json"] = body
        kwargs.setdefault("allow_redirects", False)
        return requests.request(method, self.base_url + path, timeout=10, **kwargs)


def accounts() -> Accounts:
    return Accounts([Account(*ADMIN, Role.ADMIN), Account(*VIEWER, Role.VIEWER)])


@pytest.fixture
def serve(zk_connection) -> Iterator[Any]:
    started: list[AuthApi] = []

    def make(auth: Authenticator | None) -> AuthApi:
        api = AuthApi(Registry.over(KazooTree(zk_connection)), auth)
        started.append(api)
        return api

    yield make
    for api in started:
        stop(api.server)


@pytest.fixture
def api(serve) -> AuthApi:
    return serve(Authenticator(accounts()))


def write_rules(app) -> set[tuple[str, str]]:
    return {
        (method, rule.rule) for rule in app.url_map.iter_rules() for method in rule.methods - SAFE_METHODS
    }


def test_every_write_route_is_401_without_credentials_403_for_the_viewer_2xx_for_the_admin(api):
    covered = {(method, rule) for method, rule, _, _ in WRITE_CALLS}
    assert write_rules(api.app) - SELF_SERVICE == covered, "a write route is missing from WRITE_CALLS"
    for method, _, path, body in WRITE_CALLS:
        anonymous = api.call(method, path, body)
        assert anonymous.status_code == 401, (method, path, anonymous.text)
        assert anonymous.headers["WWW-Authenticate"].startswith("Basic ")
        viewer = api.call(method, path, body, auth=VIEWER)
        assert viewer.status_code == 403, (method, path, viewer.text)
        assert "viewer" in viewer.json()["message"]
        wrong = api.call(method, path, body, auth=(ADMIN[0], "nope"))
        assert wrong.status_code == 401
        # the failed logins above come from this one address: keep it under the limit
        api.app.extensions["elasticjob"].auth.limiter.succeeded("127.0.0.1")
        admin = api.call(method, path, body, auth=ADMIN)
        assert 200 <= admin.status_code < 300, (method, path, admin.status_code, admin.text)
        api.clock.advance(11)  # past the reconcile rate limit
    # The audit log holds exactly the accepted writes (the refused ones left no trace), newest first.
    audit = api.call("GET", "/api/audit", params={"per_page": 1000}, auth=VIEWER).json()
    assert audit["total"] == len(WRITE_CALLS)
    assert [(row["method"], row["path"]) for row in reversed(audit["rows"])] == [
        (method, path) for method, _, path, _ in WRITE_CALLS
    ]
    assert {(row["username"], row["role"], row["address"]) for row in audit["rows"]} == {
        ("admin", "admin", "127.0.0.1")
    }


def test_reads_need_a_user_and_either_role_may_read(api):
    assert api.call("POST", "/api/app", FOO_APP, auth=ADMIN).status_code == 204
    assert api.call("GET", "/api/app/list").status_code == 401
    for user in (ADMIN, VIEWER):
        listed = api.call("GET", "/api/app/list", auth=user)
        assert listed.status_code == 200 and listed.json()[0]["appName"] == "foo_app"
    assert api.call("GET", "/api/openapi.json").status_code == 401
    assert api.call("GET", "/no/such/page").status_code == 401  # nothing is told before the login


def test_health_is_open_and_tells_no_secret(api):
    health = api.call("GET", "/health")
    assert health.status_code == 200
    text = health.text
    for secret in (ADMIN[1], VIEWER[1], ADMIN[0]):
        assert secret not in text


def test_3x_login_gives_an_access_token_that_opens_the_api(api):
    refused = api.call("POST", "/api/login", {"username": "admin", "password": "x"})
    assert refused.status_code == 401
    missing = api.call("POST", "/api/login", {"username": "admin"})
    assert missing.status_code == 400 and "password" in missing.json()["errors"]
    token = api.call("POST", "/api/login", {"username": VIEWER[0], "password": VIEWER[1]}).json()[
        "accessToken"
    ]
    assert len(token) >= 32 and VIEWER[1] not in token
    assert api.call("GET", "/api/app/list", headers={"accessToken": token}).status_code == 200
    assert api.call("POST", "/api/app", FOO_APP, headers={"accessToken": token}).status_code == 403
    assert api.call("GET", "/api/app/list", headers={"accessToken": token + "x"}).status_code == 401
    admin_token = api.call("POST", "/api/login", {"username": ADMIN[0], "password": ADMIN[1]}).json()
    assert api.call("POST", "/api/app", FOO_APP, headers=admin_token).status_code == 204
    api.clock.advance(timedelta(hours=9).total_seconds())  # tokens expire
    assert api.call("GET", "/api/app/list", headers=admin_token).status_code == 401


def test_console_session_cookie_is_httponly_samesite_and_writes_need_the_csrf_token(api):
    session = requests.Session()
    login = session.post(
        api.base_url + "/api/auth/session", json={"username": ADMIN[0], "password": ADMIN[1]}
    )
    assert login.status_code == 200
    cookie = login.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/" in cookie
    csrf = login.json()["csrfToken"]
    assert login.json()["role"] == "admin"
    assert session.get(api.base_url + "/api/auth/session").json()["username"] == "admin"
    no_csrf = session.post(api.base_url + "/api/app", json=FOO_APP)
    assert no_csrf.status_code == 403 and "CSRF" in no_csrf.json()["message"]
    wrong = session.post(api.base_url + "/api/app", json=FOO_APP, headers={"X-CSRF-Token": "x" + csrf})
    assert wrong.status_code == 403
    ok = session.post(api.base_url + "/api/app", json=FOO_APP, headers={"X-CSRF-Token": csrf})
    assert ok.status_code == 204
    logout = session.delete(api.base_url + "/api/auth/session", headers={"X-CSRF-Token": csrf})
    assert logout.status_code == 204
    after = session.get(api.base_url + "/api/app/list", headers={"X-Requested-With": "fetch"})
    assert after.status_code == 401
    assert "WWW-Authenticate" not in after.headers  # the console's calls get no browser dialog


def test_a_viewer_session_may_log_out_but_not_write(api):
    session = requests.Session()
    body = session.post(
        api.base_url + "/api/auth/session", json={"username": VIEWER[0], "password": VIEWER[1]}
    ).json()
    headers = {"X-CSRF-Token": body["csrfToken"]}
    assert session.post(api.base_url + "/api/app", json=FOO_APP, headers=headers).status_code == 403
    assert session.delete(api.base_url + "/api/auth/session", headers=headers).status_code == 204


def test_a_basic_auth_write_from_a_foreign_origin_is_refused(api):
    foreign = api.call("POST", "/api/app", FOO_APP, auth=ADMIN, headers={"Origin": "http://evil.example"})
    assert foreign.status_code == 403
    same = api.call("POST", "/api/app", FOO_APP, auth=ADMIN, headers={"Origin": api.base_url})
    assert same.status_code == 204


def test_repeated_failures_from_one_address_are_slowed_with_429(api):
    for _ in range(5):
        assert api.call("GET", "/api/app/list", auth=(ADMIN[0], "guess")).status_code == 401
    limited = api.call("GET", "/api/app/list", auth=ADMIN)  # even the right password waits now
    assert limited.status_code == 429
    assert 1 <= int(limited.headers["Retry-After"]) <= 60
    login = api.call("POST", "/api/login", {"username": ADMIN[0], "password": ADMIN[1]})
    assert login.status_code == 429
    api.clock.advance(61)
    assert api.call("GET", "/api/app/list", auth=ADMIN).status_code == 200


def test_failure_limiter_window_and_memory_bound():
    clock = Clock()
    limiter = FailureLimiter(limit=2, window=timedelta(seconds=10), max_addresses=3)
    limiter.failed("a", clock.now)
    assert limiter.retry_after("a", clock.now) == 0
    clock.advance(4)
    limiter.failed("a", clock.now)
    assert limiter.retry_after("a", clock.now) == pytest.approx(6)
    clock.advance(6)
    assert limiter.retry_after("a", clock.now) == 0  # the first failure aged out
    for address in "bcde":
        limiter.failed(address, clock.now)
    assert len(limiter._failures) == 3


@pytest.mark.parametrize("kind", ["argon2", "bcrypt", "plain"])
def test_hashed_and_clear_passwords(kind):
    import bcrypt

    secret = {
        "argon2": hash_password("pw-1"),
        "bcrypt": bcrypt.hashpw(b"pw-1", bcrypt.gensalt(rounds=4)).decode(),
        "plain": "pw-1",
    }[kind]
    found = Accounts([Account("root", secret, Role.ADMIN)])
    assert found.verify("root", "pw-1") is not None
    assert found.verify("root", "pw-1") is not None  # cached the second time
    assert found.verify("root", "pw-2") is None
    assert found.verify("guest", "pw-1") is None
    assert found.verify("root", "") is None


def test_a_malformed_hash_is_a_failed_login_not_a_crash():
    found = Accounts([Account("root", "$argon2id$garbage", Role.ADMIN), Account("u", "$2b$xx", Role.VIEWER)])
    assert found.verify("root", "x") is None and found.verify("u", "x") is None


def test_accounts_from_auth_properties_and_settings(tmp_path):
    props = tmp_path / "auth.properties"
    props.write_text("root.username=root\nroot.password=root\nguest.username=guest\nguest.password=guest\n")
    from_file = {a.role: a.username for a in configured_accounts(Settings(auth_file=str(props)))}
    assert from_file == {Role.ADMIN: "root", Role.VIEWER: "guest"}
    overridden = configured_accounts(
        Settings(
            auth_file=str(props),
            auth_username="ops",
            auth_password="p",
            auth_viewer_username="ro",
            auth_viewer_password="q",
        )
    )
    assert {a.role: a.username for a in overridden} == {Role.ADMIN: "ops", Role.VIEWER: "ro"}
    with pytest.raises(SettingsError, match="auth_password"):
        configured_accounts(Settings(auth_username="ops"))
    with pytest.raises(SettingsError, match="not found"):
        configured_accounts(Settings(auth_file=str(tmp_path / "missing")))
    with pytest.raises(SettingsError, match="different user names"):
        Accounts([Account("a", "1", Role.ADMIN), Account("a", "2", Role.VIEWER)])


def test_auth_switch_defaults_per_command():
    assert build_authenticator(Settings(), default_on=False) is None
    with pytest.raises(SettingsError, match="auth_enabled=false"):
        build_authenticator(Settings(), default_on=True)
    assert build_authenticator(Settings(auth_enabled="false"), default_on=True) is None
    on = build_authenticator(Settings(auth_username="a", auth_password="b"), default_on=True)
    assert on is not None and on.accounts.has_admin
    with pytest.raises(SettingsError, match="auth_enabled must be"):
        build_authenticator(Settings(auth_enabled="maybe"), default_on=True)


def test_with_authentication_off_everyone_is_admin(serve):
    api = serve(None)
    assert api.call("POST", "/api/app", FOO_APP).status_code == 204
    assert api.call("GET", "/api/auth/session").json() == {
        "authEnabled": False,
        "username": "anonymous",
        "role": "admin",
        "csrfToken": "",
    }


def test_scheduler_command_refuses_to_start_without_credentials(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "elasticjob_cloud.cli", "scheduler", "--zk-servers", "127.0.0.1:1"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
    )
    assert result.returncode == 2
    assert "refusing to start" in result.stderr and "auth_enabled=false" in result.stderr


def test_hash_password_command_prints_a_verifiable_argon2_hash():
    result = subprocess.run(
        [sys.executable, "-m", "elasticjob_cloud.cli", "hash-password"],
        input="correct horse\n",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    hashed = result.stdout.strip()
    assert hashed.startswith("$argon2id$")
    assert Accounts([Account("a", hashed, Role.ADMIN)]).verify("a", "correct horse") is not None


def test_only_the_listed_routes_are_open(api):
    """Every GET route of the url_map, without credentials: 401 unless it is one of the open ones."""
    open_rules = {"/health", "/metrics", "/", "/console/<path:filename>"}
    for rule in api.app.url_map.iter_rules():
        if "GET" not in rule.methods:
            continue
        path = rule.rule.replace("<path:filename>", "index.html").replace("<", "").replace(">", "")
        status = api.call("GET", path).status_code
        if rule.rule in open_rules:
            assert status != 401, rule.rule
        else:
            assert status == 401, (rule.rule, status)


def test_standalone_auth_flag_generates_an_admin_password_only_when_none_is_configured():
    from elasticjob_cloud.commands.server import _standalone_auth

    assert _standalone_auth(Settings(), wanted=False) == (Settings(), False, "")
    settings, on, generated = _standalone_auth(Settings(), wanted=True)
    assert on and len(generated) >= 16 and settings.auth_password == generated
    assert build_authenticator(settings, default_on=False).accounts.verify("admin", generated) is not None
    configured = Settings(auth_username="ops", auth_password="pw")
    settings, on, generated = _standalone_auth(configured, wanted=True)
    assert on and generated == "" and settings.auth_username == "ops"
    settings, on, _ = _standalone_auth(
        Settings(auth_enabled="true", auth_username="a", auth_password="b"), False
    )
    assert on  # auth_enabled=true turns it on without the flag
