"""The console on two scheduler instances in a real headless Chromium: the session opened on the
leader's console opens the standby's too (and still does after the leadership moved), and a
standby's sandbox views point to the leader instead of failing."""

from __future__ import annotations

from urllib.parse import quote

import pytest
import requests

from elasticjob_cloud.bootstrap import start_api
from elasticjob_cloud.settings import Settings
from tests.console.conftest import ADMIN, VIEWER, script_job
from tests.console.test_console_browser import find, login, shot, text_of
from tests.support import wait_until

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]

JOB = "standby_job"


def _settings(zk_hosts: str) -> Settings:
    return Settings(
        zk_servers=zk_hosts,
        http_port=0,
        hostname="127.0.0.1",
        mesos_url="127.0.0.1:1",  # no Mesos needed: sessions and leadership are the subject
        auth_username=ADMIN[0],
        auth_password=ADMIN[1],
        auth_viewer_username=VIEWER[0],
        auth_viewer_password=VIEWER[1],
    )


def _role(url: str) -> str:
    return str(requests.get(url + "/health", timeout=5).json()["role"])


class _Url(str):
    """An instance's base URL that ``login`` (``stack.url``) accepts."""

    @property
    def url(self) -> str:
        return str(self)


def test_the_session_follows_the_operator_to_the_standby_and_across_a_takeover(zk_hosts, browser):
    first = start_api(_settings(zk_hosts), host="127.0.0.1", auth_default=True)
    stacks = [first]
    try:
        leader = _Url(f"http://127.0.0.1:{first.rest.port}")
        wait_until(lambda: _role(leader) in ("leader", "starting"), 30, 0.1, "the first instance elected")
        second = start_api(_settings(zk_hosts), host="127.0.0.1", auth_default=True)
        stacks.append(second)
        standby = f"http://127.0.0.1:{second.rest.port}"
        wait_until(lambda: _role(standby) == "standby", 30, 0.1, "the second instance standing by")
        app = {
            "appName": "standby_app",
            "appURL": "http://example.invalid/a.tar.gz",
            "bootstrapScript": "b.sh",
            "cpuCount": 0.1,
            "memoryMB": 32,
        }
        job = script_job(JOB, "standby_app")
        assert requests.post(leader + "/api/app", json=app, auth=ADMIN, timeout=5).status_code == 204
        assert requests.post(leader + "/api/job/register", json=job, auth=ADMIN, timeout=5).status_code == 204

        # Signed in on the leader's console; the standby's console (same host) opens without a login.
        driver = browser
        login(driver, leader, ADMIN)
        task = f"{JOB}@-@0@-@READY@-@agent-S0@-@5e1f"
        driver.get(f"{standby}/#/jobs/{JOB}?task={task}&file=stderr")
        assert ADMIN[0] in text_of(driver, "#who", contains=ADMIN[0])
        hint = text_of(driver, "#task-output .standby-hint", contains="standby")
        assert f"{leader}/#/jobs/{JOB}?task={quote(task, safe='')}&file=stderr" in hint  # the same view
        text_of(driver, "#sandbox .standby-hint", contains=leader)
        shot(driver, "15-standby-hint")

        # The leadership moves to the standby: the operator is still signed in there.
        first.stop()
        stacks.remove(first)
        wait_until(lambda: _role(standby) in ("leader", "starting"), 30, 0.1, "the standby taking over")
        driver.get("about:blank")
        driver.get(f"{standby}/#/jobs/{JOB}")
        text_of(driver, "h1", contains=JOB)
        assert driver.find_elements("css selector", "#login-form") == []
        find(driver, "#logout").click()
        find(driver, "#login-form")
    finally:
        for stack in stacks:
            stack.stop()
