"""The run policies in the console (issue #17), in a real headless Chromium against a real REST server
over ZooKeeper with authentication on (no Mesos: nothing here runs).

Through the job form: a job registered with every policy and no cron (it depends on another job) is
stored with them; the server's refusals (ALLOW or dependsOn on a DAEMON job, a retry whose longest
wait is shorter than its first, a name that is no job name, an unknown upstream, a cycle) appear next to their fields and store nothing; an edit
changes policies, clears one (its key leaves the stored JSON) and leaves an untouched one alone,
even when it was changed meanwhile by someone else; the job page lists the policies that are
set, in English and in Chinese.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from types import SimpleNamespace

import pytest
import requests
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from elasticjob_cloud.bootstrap import start_api
from elasticjob_cloud.core import paths
from elasticjob_cloud.settings import Settings
from tests.console.conftest import ADMIN, VIEWER, script_job
from tests.console.test_console_browser import fill, find, login, shot, text_of
from tests.support import wait_until

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]

APP, UP, JOB = "policy_app", "policy_up", "policy_job"
NEVER_CRON = "0 0 0 1 1 ? 2099"  # what the server stores as the cron of a job with dependsOn only


@pytest.fixture
def server(zk_hosts) -> Iterator[SimpleNamespace]:
    settings = Settings(
        zk_servers=zk_hosts,
        http_port=0,
        hostname="127.0.0.1",
        auth_username=ADMIN[0],
        auth_password=ADMIN[1],
        auth_viewer_username=VIEWER[0],
        auth_viewer_password=VIEWER[1],
    )
    stack = start_api(settings, host="127.0.0.1", run_scheduler=False, auth_default=True)
    try:
        url = f"http://127.0.0.1:{stack.rest.port}"
        app = {"appName": APP, "appURL": "http://example.invalid/a.tar.gz", "bootstrapScript": "b.sh"}
        assert requests.post(url + "/api/app", json=app, auth=ADMIN, timeout=5).status_code == 204
        upstream = script_job(UP, APP)
        assert (
            requests.post(url + "/api/job/register", json=upstream, auth=ADMIN, timeout=5).status_code == 204
        )
        yield SimpleNamespace(url=url, stack=stack)
    finally:
        stack.stop()


def stored(server, name):
    """The job's JSON as it is in ZooKeeper (what the original would read)."""
    data, _ = server.stack.registry.tree.get(paths.job(name))
    return json.loads(data)


def choose(driver, name, value):
    Select(find(driver, f"#job-form [name='{name}']")).select_by_value(value)


def submit_and_see_error(driver, field, contains):
    find(driver, "#job-form button[type=submit]").click()
    return text_of(driver, f"[data-error-for='{field}']", contains=contains, what=f"the {field} message")


def test_run_policies_through_the_job_form_and_the_job_page(server, browser):
    driver = browser
    login(driver, server, ADMIN)

    # A new job with every policy and no cron: the server's refusals appear next to their fields.
    driver.get(server.url + "/#/jobs/new")
    find(driver, "#run-policies")
    fill(driver, "jobName", JOB, "#job-form")
    fill(driver, "appName", APP, "#job-form")
    choose(driver, "jobType", "SCRIPT")
    fill(driver, "scriptCommandLine", "true", "#job-form")
    find(driver, "#job-form [name='cron']").clear()
    fill(driver, "priority", "5", "#job-form")
    fill(driver, "startingDeadlineSeconds", "60", "#job-form")
    fill(driver, "timeLimitSeconds", "300", "#job-form")
    choose(driver, "concurrencyPolicy", "ALLOW")
    fill(driver, "retry.maxRetries", "3", "#job-form")
    fill(driver, "retry.initialBackoffSeconds", "5", "#job-form")
    fill(driver, "dependsOn", "policy_u", "#job-form")  # the server's job search offers the rest

    def offered():
        options = driver.find_elements(By.CSS_SELECTOR, "#upstream-names option")
        return [o.get_attribute("value") for o in options] or None

    assert wait_until(offered, 10, 0.1, "upstream suggestions") == [UP]
    fill(driver, "dependsOn", UP, "#job-form")
    assert find(driver, "#job-form [name='cron']").get_attribute("required") is None  # optional now
    choose(driver, "dependencyPolicy", "ALL_DONE")
    choose(driver, "jobExecutionType", "DAEMON")
    shot(driver, "16-job-form-policies")
    allow = submit_and_see_error(driver, "concurrencyPolicy", "DAEMON")
    assert "DAEMON" in text_of(driver, "[data-error-for='dependsOn']")
    daemon = {**script_job(JOB, APP), "jobExecutionType": "DAEMON", "concurrencyPolicy": "ALLOW"}
    answer = requests.post(server.url + "/api/job/register", json=daemon, auth=ADMIN, timeout=5)
    assert answer.status_code == 400 and allow == " ".join(answer.json()["errors"]["concurrencyPolicy"])
    assert requests.get(server.url + f"/api/job/jobs/{JOB}", auth=ADMIN, timeout=5).status_code == 404
    shot(driver, "17-job-form-policy-errors")

    choose(driver, "jobExecutionType", "TRANSIENT")
    find(driver, "#job-form button[type=submit]").click()
    text_of(driver, "h1", contains=JOB)
    record = stored(server, JOB)
    assert record["cron"] == NEVER_CRON
    assert {key: record[key] for key in ("priority", "startingDeadlineSeconds", "timeLimitSeconds")} == {
        "priority": 5,
        "startingDeadlineSeconds": 60,
        "timeLimitSeconds": 300,
    }
    assert record["retry"] == {"maxRetries": 3, "initialBackoffSeconds": 5.0, "maxBackoffSeconds": 360.0}
    assert (record["concurrencyPolicy"], record["dependsOn"], record["dependencyPolicy"]) == (
        "ALLOW",
        [UP],
        "ALL_DONE",
    )

    # The job page lists them, and says the job has no cron of its own.
    policies = text_of(driver, "#policies", contains="up to 3 retries")
    for shown in ("Priority", "5", "60", "300", "ALLOW: start beside", "ALL_DONE", "at most 360 s"):
        assert shown in policies, (shown, policies)
    shown_keys = {
        e.get_attribute("data-policy") for e in driver.find_elements(By.CSS_SELECTOR, "[data-policy]")
    }
    assert shown_keys == {
        "priority",
        "startingDeadlineSeconds",
        "timeLimitSeconds",
        "concurrencyPolicy",
        "retry",
        "dependsOn",
        "dependencyPolicy",
    }
    assert driver.find_element(By.CSS_SELECTOR, "#policies a").get_attribute("href").endswith(f"#/jobs/{UP}")
    assert "runs after the jobs it depends on" in text_of(driver, ".props", contains="Cron")
    text_of(driver, "#next-fires", contains="runs after the jobs it depends on")  # not the year 2099
    shot(driver, "18-job-page-policies")

    # Edit: a bad retry is refused next to its field and changes nothing; then priority changes,
    # the starting deadline is cleared, and the time limit (untouched here, changed meanwhile by
    # someone else) keeps the other change.
    driver.get(server.url + f"/#/jobs/{JOB}/edit")
    assert find(driver, "#job-form [name='priority']").get_attribute("value") == "5"
    assert find(driver, "#job-form [name='cron']").get_attribute("value") == ""
    changed = {"jobName": JOB, "timeLimitSeconds": 900}
    assert (
        requests.put(server.url + "/api/job/update", json=changed, auth=ADMIN, timeout=5).status_code == 204
    )
    fill(driver, "priority", "9e", "#job-form")  # no number: the browser reads it as empty
    submit_and_see_error(driver, "priority", "is not a number")
    assert stored(server, JOB)["priority"] == 5  # not cleared
    fill(driver, "priority", "9", "#job-form")
    choose(driver, "concurrencyPolicy", "REPLACE")  # an ALLOW job may not be an upstream: the cycle below
    find(driver, "#job-form [name='startingDeadlineSeconds']").clear()
    fill(driver, "retry.maxBackoffSeconds", "2", "#job-form")
    submit_and_see_error(driver, "retry.maxBackoffSeconds", "at least initialBackoffSeconds")
    assert stored(server, JOB)["priority"] == 5
    fill(driver, "retry.maxBackoffSeconds", "600", "#job-form")
    find(driver, "#job-form button[type=submit]").click()
    text_of(driver, "#policies", contains="9")
    record = stored(server, JOB)
    assert "startingDeadlineSeconds" not in record
    assert (record["priority"], record["timeLimitSeconds"], record["cron"]) == (9, 900, NEVER_CRON)
    assert record["retry"] == {"maxRetries": 3, "initialBackoffSeconds": 5.0, "maxBackoffSeconds": 600.0}
    assert record["dependsOn"] == [UP] and record["concurrencyPolicy"] == "REPLACE"

    # A cycle: the upstream made to depend on its downstream is refused next to dependsOn.
    driver.get(server.url + f"/#/jobs/{UP}/edit")
    fill(driver, "dependsOn", f"{JOB}, not a name", "#job-form")  # the server names it dependsOn.1
    submit_and_see_error(driver, "dependsOn", "'not a name': must be")
    fill(driver, "dependsOn", "ghost_job", "#job-form")
    submit_and_see_error(driver, "dependsOn", "unknown upstream job(s): 'ghost_job'")  # a 404
    fill(driver, "dependsOn", JOB, "#job-form")
    cycle = submit_and_see_error(driver, "dependsOn", "cycle")
    assert f"{UP} → {JOB} → {UP}" in cycle or f"{JOB} → {UP} → {JOB}" in cycle
    assert "dependsOn" not in stored(server, UP)

    # The jobs list keeps its columns.
    driver.get(server.url + "/#/jobs")
    text_of(driver, "table.grid thead", contains="Job name")
    headers = [th.text for th in driver.find_elements(By.CSS_SELECTOR, "table.grid thead th")]
    assert "Cron" in headers and not {"Priority", "Depends on", "Retry", "Concurrency policy"} & set(headers)

    # The job page in Chinese, then back.
    driver.get(server.url + f"/#/jobs/{JOB}")
    text_of(driver, "#policies", contains="Priority")
    Select(find(driver, "#lang")).select_by_value("zh")
    chinese = text_of(driver, "#policies", contains="运行策略")
    for shown in ("优先级", "9", "900", "最多重试 3 次", "终止正在运行的执行", "无论成败"):
        assert shown in chinese, (shown, chinese)
    assert "startingDeadlineSeconds" not in chinese and "启动期限" not in chinese  # cleared: not shown
    shot(driver, "19-job-page-policies-zh")
    Select(find(driver, "#lang")).select_by_value("en")
    text_of(driver, "#policies", contains="Run policies")
    find(driver, "#logout").click()
    find(driver, "#login-form")
