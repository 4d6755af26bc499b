"""The console in a real headless Chromium against a live standalone stack with authentication on.

One walk through it, as an operator would: log in as admin; publish an app and register a job
through the forms (a bad cron shows the server's message next to the field); see it run in job
status and on its job page; the dashboard's charts render with data; zh/en switch (remembered);
log out; a viewer sees no write controls and a write sent by hand gets 403. Each page's screenshot
is saved under test-artifacts/console/.
"""

from __future__ import annotations

import pytest
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from tests.console.conftest import ADMIN, ARTIFACTS, VIEWER, script_job
from tests.support import wait_until

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]

APP = "console_app"
JOB = "console_job"


def find(driver, css, timeout=15.0, what=None):
    def visible():
        try:
            element = driver.find_element(By.CSS_SELECTOR, css)
            return element if element.is_displayed() else None
        except (WebDriverException, StaleElementReferenceException):
            return None

    return wait_until(visible, timeout, 0.1, what or css)


def text_of(driver, css, timeout=15.0, contains="", what=None):
    def matching():
        try:
            text = driver.find_element(By.CSS_SELECTOR, css).text
            return text if contains in text and text else None
        except (WebDriverException, StaleElementReferenceException):
            return None

    return wait_until(matching, timeout, 0.1, what or f"{css} containing {contains!r}")


def shot(driver, name):
    driver.save_screenshot(str(ARTIFACTS / f"{name}.png"))


def fill(driver, name, value, form="form"):
    element = find(driver, f"{form} [name='{name}']")
    element.clear()
    element.send_keys(value)
    return element


def reloaded_until(driver, url, css, contains, timeout=20.0):
    """The page at ``url`` reloaded until ``css`` holds ``contains`` (the trace is written asynchronously)."""

    def shown():
        driver.get("about:blank")
        driver.get(url)
        try:
            return text_of(driver, css, timeout=3, contains=contains)
        except AssertionError:
            return None

    return wait_until(shown, timeout, 0.5, f"{url}: {css} containing {contains!r}")


def login(driver, stack, user):
    driver.get(stack.url + "/#/dashboard")
    find(driver, "#login-form")
    fill(driver, "username", user[0], "#login-form")
    fill(driver, "password", user[1], "#login-form")
    find(driver, "#login-form button[type=submit]").click()
    text_of(driver, "#who", contains=user[0])


def test_operator_walkthrough(stack, browser):
    driver = browser
    driver.get(stack.url + "/")
    find(driver, "#login-form")
    assert "Sign in" in driver.find_element(By.CSS_SELECTOR, "#login-form h1").text
    shot(driver, "01-login")

    # A wrong password is refused with a message; the right one signs in.
    fill(driver, "username", ADMIN[0], "#login-form")
    fill(driver, "password", "not-the-password", "#login-form")
    find(driver, "#login-form button[type=submit]").click()
    text_of(driver, "#login-form .form-error", contains="Wrong user name or password")
    login(driver, stack, ADMIN)
    assert "admin" in find(driver, "#who").text

    # Publish an app through the form.
    driver.get(stack.url + "/#/apps")
    find(driver, "#add-app").click()
    fill(driver, "appName", APP, "#app-form")
    fill(driver, "appURL", f"file://{stack.work}/example-app.tar.gz", "#app-form")
    fill(driver, "cpuCount", "0.1", "#app-form")
    fill(driver, "memoryMB", "32", "#app-form")
    shot(driver, "02-app-form")
    find(driver, "#app-form button[type=submit]").click()
    text_of(driver, "h1", contains=APP)
    assert stack.call("GET", f"/api/app/{APP}").json()["appURL"].endswith("example-app.tar.gz")

    # Register a job: the cron preview follows typing; a bad cron shows the server's message by the field.
    driver.get(stack.url + "/#/jobs/new")
    find(driver, "#job-form")
    Select(find(driver, "#job-form [name='jobType']")).select_by_value("SCRIPT")
    assert not find(driver, "[data-field='scriptCommandLine']").get_attribute("hidden")
    assert driver.find_element(By.CSS_SELECTOR, "[data-field='jobClass']").get_attribute("hidden") is not None
    Select(find(driver, "#job-form [name='jobType']")).select_by_value("SIMPLE")
    assert find(driver, "[data-field='jobClass']").is_displayed()
    assert not driver.find_element(By.CSS_SELECTOR, "[data-field='scriptCommandLine']").is_displayed()
    fill(driver, "jobName", JOB, "#job-form")
    fill(driver, "appName", APP, "#job-form")
    fill(driver, "jobClass", "example_jobs.simple.HelloJob", "#job-form")
    fill(driver, "jobParameter", "sleep=3", "#job-form")  # long enough to be seen running
    fill(driver, "shardingTotalCount", "2", "#job-form")
    fill(driver, "shardingItemParameters", "0=fine,1=fail", "#job-form")  # shard 1 fails: both results
    fill(driver, "cpuCount", "0.1", "#job-form")
    fill(driver, "memoryMB", "16", "#job-form")
    fill(driver, "cron", "0/5 * 25 * * ?", "#job-form")  # there is no hour 25
    text_of(driver, "#cron-preview.bad", what="the preview's complaint about the cron")
    find(driver, "#job-form button[type=submit]").click()
    error = text_of(driver, "[data-error-for='cron']", what="the server's cron message next to the field")
    server = stack.call(
        "POST",
        "/api/job/register",
        json={
            "jobName": "x",
            "appName": APP,
            "jobType": "SCRIPT",
            "jobExecutionType": "TRANSIENT",
            "cron": "0/5 * 25 * * ?",
            "shardingTotalCount": 1,
            "cpuCount": 0.1,
            "memoryMB": 16,
            "scriptCommandLine": "true",
        },
    )
    assert server.status_code == 400 and error == " ".join(server.json()["errors"]["cron"])
    assert stack.call("GET", f"/api/job/jobs/{JOB}").status_code == 404  # nothing was stored
    shot(driver, "03-job-form-bad-cron")
    fill(driver, "cron", "0/5 * * * * ?", "#job-form")
    preview = text_of(
        driver, "#cron-preview:not(.bad)", contains="UTC", what="the next fires of the fixed cron"
    )
    assert preview.count(":") >= 5
    find(driver, "#job-form button[type=submit]").click()
    text_of(driver, "h1", contains=f"{JOB}")
    assert stack.call("GET", f"/api/job/jobs/{JOB}").json()["jobClass"] == "example_jobs.simple.HelloJob"

    # It runs: job status lists its shards while they sleep.
    def running_in_status():
        driver.get(stack.url + "/#/status?tab=running")
        driver.refresh()
        try:
            text = text_of(driver, "#status-running", timeout=3)
        except AssertionError:
            return False
        return JOB in text

    wait_until(running_in_status, 60, 0.5, "the job's shards in the running tab")
    shot(driver, "04-job-status")

    # Its runs reach the execution history: shard 0 succeeds, shard 1 fails with its cause.
    history = reloaded_until(
        driver, stack.url + f"/#/executions?jobName={JOB}&isSuccess=0", "table.grid", "was told to fail", 60
    )
    assert "failed" in history and "success" not in history
    shot(driver, "05-executions")
    reloaded_until(driver, stack.url + f"/#/executions?jobName={JOB}&isSuccess=1", "table.grid", "success")
    reloaded_until(driver, stack.url + f"/#/traces?jobName={JOB}&state=TASK_FINISHED", "table.grid", JOB)

    # The job page: configuration, next fires, sandboxes, recent runs with durations, and the jobs
    # that depend on it (a disabled downstream: it never runs here).
    after = {
        **stack.call("GET", f"/api/job/jobs/{JOB}").json(),
        "jobName": f"{JOB}_after",
        "dependsOn": [JOB],
    }
    del after["cron"]
    assert stack.call("POST", "/api/job/register", json=after).status_code == 204
    assert stack.call("POST", f"/api/job/{JOB}_after/disable").status_code == 204
    driver.get(stack.url + f"/#/jobs/{JOB}")
    text_of(driver, "#next-fires", contains="UTC")
    text_of(driver, "#sandbox", contains="/", timeout=30)
    runs = text_of(driver, "#recent-runs", contains=" ms")
    assert "failed" in runs and "success" in runs
    edges = text_of(driver, "#dependencies", contains=f"{JOB}_after")
    assert "needed by" in edges and ("waiting" in edges or "upstream failed" in edges)  # its shard 1 fails
    shot(driver, "06-job-page")

    # The jobs list: server-side search in the URL (a shareable link), and the dependency graph.
    driver.get(stack.url + "/#/jobs?search=console")
    text_of(driver, "table.grid", contains=JOB)
    graph = find(driver, "#dependency-graph svg", what="the dependency graph drawn")
    assert len(graph.find_elements(By.CSS_SELECTOR, "line.edge")) == 1
    assert {e.text for e in graph.find_elements(By.CSS_SELECTOR, "text")} == {JOB, f"{JOB}_after"}
    shot(driver, "07-jobs")
    driver.get(stack.url + "/#/jobs?search=no-such-job")
    text_of(driver, ".page-jobs", contains="Nothing to show")

    # The dashboard's charts render with data: the job counts at once, the trace's statistics once
    # the first minute closed (the statistics pass runs on the minute).
    driver.get(stack.url + "/#/dashboard")
    find(driver, "#chart-job-type[data-rendered='true']", what="the job type chart drawn")
    find(driver, "#chart-execution-type[data-rendered='true']")

    def statistics_drawn():
        driver.get("about:blank")
        driver.get(stack.url + "/#/dashboard")
        find(driver, "#chart-job-type[data-rendered='true']")
        try:
            return find(driver, "#chart-results-24h[data-rendered='true']", timeout=3)
        except AssertionError:
            return None

    wait_until(statistics_drawn, 90, 1, "the last 24 hours' task results drawn from the trace statistics")
    shot(driver, "08-dashboard")

    # The audit log (in the trace database) shows the writes made through the forms, by whom.
    audit = reloaded_until(driver, stack.url + "/#/audit?method=POST", "table.grid", "/api/job/register")
    assert "/api/app" in audit and "admin" in audit
    shot(driver, "09-audit")

    # Health.
    driver.get(stack.url + "/#/health")
    text_of(driver, "#health", contains="leader")
    shot(driver, "10-health")

    # zh / en: switched, and remembered across a reload.
    Select(find(driver, "#lang")).select_by_value("zh")
    text_of(driver, "#nav", contains="应用")
    driver.refresh()
    text_of(driver, "#nav", contains="作业看板")
    shot(driver, "11-health-zh")
    Select(find(driver, "#lang")).select_by_value("en")
    text_of(driver, "#nav", contains="Dashboard")

    # Log out: back to the login form, and the session no longer opens the API.
    find(driver, "#logout").click()
    find(driver, "#login-form")
    status = driver.execute_async_script(
        "const done = arguments[0];"
        "fetch('/api/app/list', {headers: {'X-Requested-With': 'fetch'}}).then(r => done(r.status));"
    )
    assert status == 401

    # A viewer sees no write controls, and a write sent by hand is refused with 403.
    login(driver, stack, VIEWER)
    driver.get(stack.url + "/#/jobs")
    text_of(driver, "table.grid", contains=JOB)
    assert driver.find_elements(By.CSS_SELECTOR, "#add-job, .actions, button.danger") == []
    driver.get(stack.url + f"/#/jobs/{JOB}")
    text_of(driver, "#next-fires", contains="UTC")
    assert driver.find_elements(By.CSS_SELECTOR, ".actions") == []
    shot(driver, "12-viewer-job-page")
    answer = driver.execute_async_script(
        "const done = arguments[0];"
        "fetch('/api/auth/session', {headers: {'X-Requested-With': 'fetch'}}).then(r => r.json())"
        ".then(s => fetch('/api/job/" + JOB + "/disable', {method: 'POST', headers: {"
        "'X-Requested-With': 'fetch', 'X-CSRF-Token': s.csrfToken}}))"
        ".then(async r => done([r.status, await r.text()]));"
    )
    assert answer[0] == 403 and "viewer" in answer[1]
    assert stack.call("GET", f"/api/job/{JOB}/disable").json() is False
    find(driver, "#logout").click()
    find(driver, "#login-form")


TAIL_APP = "tail_app"
TAIL_JOB = "tail_job"


def test_task_output_through_rest_and_console(stack, browser):
    """A SCRIPT job echoes a known line: the leader reads it back through the task's agent
    (``/api/operate/sandbox/tail``), a viewer may read it, and the job page shows it."""
    app = {
        "appName": TAIL_APP,
        "appURL": f"file://{stack.work}/example-app.tar.gz",
        "cpuCount": 0.1,
        "memoryMB": 32,
        "bootstrapScript": "bin/start.sh",
    }
    assert stack.call("POST", "/api/app", json=app).status_code == 204
    job = script_job(TAIL_JOB, TAIL_APP, "sh -c 'echo tail-marker-7319; echo complaint-7319 >&2; sleep 15'")
    assert stack.call("POST", "/api/job/register", json=job).status_code == 204
    assert stack.call("POST", "/api/job/trigger", data=TAIL_JOB).status_code == 204

    def running_task():
        rows = stack.call("GET", "/api/job/tasks/running").json()
        return next((r["id"] for r in rows if r["metaInfo"]["jobName"] == TAIL_JOB), None)

    task_id = wait_until(running_task, 60, 0.3, "the SCRIPT job's task running")

    def tail(file="stdout", auth=ADMIN, **params):
        query = {"taskId": task_id, "file": file, **params}
        return stack.call("GET", "/api/operate/sandbox/tail", auth=auth, params=query)

    def marked():
        answer = tail()
        return (
            answer.json()
            if answer.status_code == 200 and "tail-marker-7319" in answer.json()["data"]
            else None
        )

    out = wait_until(marked, 30, 0.3, "the job's line in the task's stdout")
    assert out["data"] == "tail-marker-7319\n"
    assert out["offset"] == 0 and out["size"] == len(out["data"].encode()) and out["taskId"] == task_id
    assert out["path"].endswith("/stdout") and "/tasks/" in out["path"] and out["hostname"]
    assert tail("stderr").json()["data"] == "complaint-7319\n"
    last = tail(length=5).json()
    assert last["data"] == out["data"][-5:] and last["offset"] == out["size"] - 5
    assert tail(auth=VIEWER).status_code == 200  # reading is not a write: viewers may
    assert tail(auth=None).status_code == 401

    # Bad parameters: 400 naming the parameter; a task no agent knows: 404.
    for params, name in (
        ({"file": "../../../etc/passwd"}, "file"),
        ({"file": "stdout", "length": "0"}, "length"),
        ({"file": "stdout", "length": "65537"}, "length"),
        ({"file": "stdout", "length": "ten"}, "length"),
    ):
        answer = stack.call("GET", "/api/operate/sandbox/tail", params={"taskId": task_id, **params})
        assert answer.status_code == 400 and name in answer.json()["errors"], (params, answer.text)
    for task in ("", "not-a-task", f"{TAIL_JOB}@-@0@-@READY@-@../../x@-@1"):
        answer = stack.call("GET", "/api/operate/sandbox/tail", params={"taskId": task})
        assert answer.status_code == 400 and "taskId" in answer.json()["errors"], (task, answer.text)
    unknown = stack.call(
        "GET", "/api/operate/sandbox/tail", params={"taskId": f"{TAIL_JOB}@-@0@-@READY@-@no-such-agent@-@1"}
    )
    assert unknown.status_code == 404 and "no-such-agent" in unknown.json()["message"]

    # The console: a viewer opens the job page with the task in the URL and sees the line; stderr too.
    driver = browser
    login(driver, stack, VIEWER)
    driver.get(stack.url + f"/#/jobs/{TAIL_JOB}?task={task_id}")
    text_of(driver, "#tail-data", contains="tail-marker-7319", timeout=20)
    assert task_id in text_of(driver, "#tail-task")
    assert "/stdout" in text_of(driver, "#tail-meta", contains="bytes")
    Select(find(driver, "#tail-file")).select_by_value("stderr")
    text_of(driver, "#tail-data", contains="complaint-7319")
    assert "file=stderr" in driver.current_url  # a shareable link
    find(driver, "#tail-refresh").click()
    text_of(driver, "#tail-data", contains="complaint-7319")
    shot(driver, "13-task-output")
    find(driver, "#logout").click()
    find(driver, "#login-form")


def test_a_run_no_agent_can_hold_says_why_in_the_ready_tab(stack, browser):
    """Issue #12: the job status page shows why a queued run waits when no agent can ever hold it."""
    driver = browser
    app = {"appName": "console_fit_app", "appURL": "http://127.0.0.1:9/none.tar.gz", "bootstrapScript": "x"}
    assert stack.call("POST", "/api/app", json=app).status_code == 204
    huge = script_job("console_huge", "console_fit_app", cpuCount=1000)
    assert stack.call("POST", "/api/job/register", json=huge).status_code == 204
    assert stack.call("POST", "/api/job/trigger", data="console_huge").status_code == 204
    try:
        login(driver, stack, VIEWER)
        ready = reloaded_until(
            driver, stack.url + "/#/status?tab=ready", "#status-ready", "no agent can hold one shard", 30
        )
        assert "console_huge" in ready and "1000 cpus" in ready
        shot(driver, "14-status-unschedulable")
        find(driver, "#logout").click()
        find(driver, "#login-form")
    finally:
        stack.call("DELETE", "/api/job/deregister", data="console_huge")
        stack.call("DELETE", "/api/app/console_fit_app")
