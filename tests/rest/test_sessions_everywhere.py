"""A console session (and a 3.x token) is valid on every scheduler instance of a cluster and
survives a move of the leadership: two, then three real instances over one ZooKeeper namespace."""

from __future__ import annotations

import base64
import json
import logging

import pytest
import requests

from elasticjob_cloud.bootstrap import start_api
from elasticjob_cloud.registry.console_keys import LOGOUTS, SECRET
from elasticjob_cloud.settings import Settings
from tests.support import wait_until

ADMIN = ("admin", "shared-admin-pw")


def _settings(zk_hosts: str) -> Settings:
    return Settings(
        zk_servers=zk_hosts,
        http_port=0,
        hostname="127.0.0.1",
        mesos_url="127.0.0.1:1",  # no Mesos: leadership and the REST API are what this is about
        auth_username=ADMIN[0],
        auth_password=ADMIN[1],
        auth_viewer_username="viewer",
        auth_viewer_password="viewer-pw",
    )


def _url(stack) -> str:
    return f"http://127.0.0.1:{stack.rest.port}"


def _role(url: str) -> str:
    return str(requests.get(url + "/health", timeout=5).json()["role"])


def _who(url: str, cookie: str) -> requests.Response:
    return requests.get(url + "/api/auth/session", cookies={"ejc_session": cookie}, timeout=5)


@pytest.mark.timeout(120)
def test_a_session_holds_on_every_instance_and_across_a_takeover(zk_hosts, caplog):
    caplog.set_level(logging.DEBUG)
    first = start_api(_settings(zk_hosts), host="127.0.0.1", auth_default=True)
    stacks = [first]
    try:
        a = _url(first)
        wait_until(lambda: _role(a) in ("leader", "starting"), 30, 0.1, "the first instance elected")
        second = start_api(_settings(zk_hosts), host="127.0.0.1", auth_default=True)
        stacks.append(second)
        b = _url(second)
        wait_until(lambda: _role(b) == "standby", 30, 0.1, "the second instance standing by")

        login = requests.post(
            a + "/api/auth/session", json={"username": ADMIN[0], "password": ADMIN[1]}, timeout=5
        )
        assert login.status_code == 200
        cookie, csrf = login.cookies["ejc_session"], login.json()["csrfToken"]

        # The standby knows the session, its CSRF token, and takes a write with it.
        who = _who(b, cookie)
        assert (
            who.status_code == 200 and who.json()["username"] == ADMIN[0] and who.json()["csrfToken"] == csrf
        )
        app = {
            "appName": "shared_app",
            "appURL": "http://example.invalid/a.tar.gz",
            "bootstrapScript": "bin/start.sh",
            "cpuCount": 0.1,
            "memoryMB": 32,
        }
        write = requests.post(
            b + "/api/app",
            json=app,
            cookies={"ejc_session": cookie},
            headers={"X-CSRF-Token": csrf},
            timeout=5,
        )
        assert write.status_code == 204
        forged_csrf = requests.delete(
            b + "/api/app/shared_app",
            cookies={"ejc_session": cookie},
            headers={"X-CSRF-Token": "x" + csrf[1:]},
            timeout=5,
        )
        assert forged_csrf.status_code == 403

        # A token whose payload was changed (a viewer made admin, or the reverse) is refused.
        payload, mac = cookie.split(".")
        fields = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        fields["u"] = "viewer"
        tampered = base64.urlsafe_b64encode(json.dumps(fields).encode()).rstrip(b"=").decode() + "." + mac
        assert _who(b, tampered).status_code == 401 and _who(a, tampered).status_code == 401

        # A 3.x accessToken from the standby works on the leader.
        token = requests.post(
            b + "/api/login", json={"username": ADMIN[0], "password": ADMIN[1]}, timeout=5
        ).json()["accessToken"]
        assert requests.get(a + "/api/app/list", headers={"accessToken": token}, timeout=5).status_code == 200

        # The leadership moves: the session still opens the new leader.
        first.stop()
        stacks.remove(first)
        wait_until(lambda: _role(b) in ("leader", "starting"), 30, 0.1, "the standby taking over")
        assert _who(b, cookie).status_code == 200

        # An instance started afterwards reads the same key; a logout there holds on the others.
        third = start_api(_settings(zk_hosts), host="127.0.0.1", auth_default=True)
        stacks.append(third)
        c = _url(third)
        assert _who(c, cookie).status_code == 200
        out = requests.delete(
            c + "/api/auth/session",
            cookies={"ejc_session": cookie},
            headers={"X-CSRF-Token": csrf},
            timeout=5,
        )
        assert out.status_code == 204
        assert _who(c, cookie).status_code == 401
        wait_until(
            lambda: _who(b, cookie).status_code == 401, 10, 0.1, "the logout heard by the other instance"
        )
        assert requests.get(b + "/api/app/list", headers={"accessToken": token}, timeout=5).status_code == 200

        # The key is in ZooKeeper, never in a line this project logs.
        key = second.registry.tree.get(SECRET)[0].decode()
        ours = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("elasticjob_cloud"))
        assert len(key) == 64 and "signing key" in ours and key not in ours  # kazoo's DEBUG prints node data
        assert len(second.registry.tree.children(LOGOUTS)) == 1
    finally:
        for stack in stacks:
            stack.stop()
