"""The scheduler against the local Mesos in its faithful mode (issue #18): a master restart whose
recovered agents never return, and an app update under load, with real drivers and executors."""

from __future__ import annotations

import pytest
import requests

from tests.scheduler.schedkit import FAR_FUTURE, app_body, stays_true
from tests.support import wait_until

pytestmark = pytest.mark.slow


@pytest.mark.parametrize(
    ("master", "scheduler_settings"),
    [
        # the master marks the recovered agent unreachable after 2 s: FAILURE only, then the
        # scheduler's own reconciliation of that agent's tasks answers TASK_UNREACHABLE
        (dict(agent_reregister_timeout=2.0), dict(reconcile_no_answer_seconds=60.0)),
        # the master stays silent (its 10 minutes): the scheduler stops waiting for an answer
        (dict(agent_reregister_timeout=600.0), dict(reconcile_no_answer_seconds=2.0)),
    ],
    ids=["failure-event", "no-answer"],
)
def test_master_restart_with_a_recovered_agent_that_never_returns(make_scheduler, master, scheduler_settings):
    """With the persistent registry a restarted master answers nothing about the tasks of an agent
    it recovered (ReconciliationTest.RecovedAgent): the shard must not look running forever."""
    scheduler = make_scheduler(
        agents=2, cluster_options=dict(registry="replicated_log", **master), **scheduler_settings
    )
    scheduler.job("fo", cron=FAR_FUTURE, failover=True, jobParameter="sleep=60")
    scheduler.lifecycle.trigger("fo")
    wait_until(lambda: scheduler.records("fo"), 20, message="the shard to start")
    [original] = [r.task_id for r in scheduler.records("fo")]
    away = original.split("@-@")[3]
    other = next(a.agent_id for a in scheduler.cluster.agents if a.agent_id != away)
    scheduler.settle()

    scheduler.cluster.restart_master(keep_away=away)
    assert scheduler.service is not None
    wait_until(lambda: scheduler.service.status()["unansweredTasks"] == 1, 10, 0.02, message="no answer")

    launches = wait_until(
        lambda: [t for t in scheduler.events.launched_of("fo") if t != original],
        30,
        message="the shard of the agent that never returned to run again",
    )
    assert [t.task_id for t in scheduler.running("fo")] != [original]
    [failover] = launches
    assert failover.split("@-@")[2:4] == ["FAILOVER", other]
    wait_until(lambda: [r for r in scheduler.records("fo") if r.task_id == failover], 20, message="it runs")
    assert stays_true(lambda: len(scheduler.events.launched_of("fo")) == 2, 1.0)  # nothing doubled


def test_an_app_update_under_load_never_gets_task_error(make_scheduler):
    """A master refuses a changed ExecutorInfo under a running executor's ID (validation.cpp): after
    ``PUT /api/app`` new tasks start a new executor; the old one is stopped once its tasks end."""
    scheduler = make_scheduler(agents=2)
    scheduler.job(
        "load", cron="0/2 * * * * ?", shardingTotalCount=4, failover=False, jobParameter="sleep=1.5"
    )
    wait_until(lambda: len(scheduler.records("load")) >= 4, 30, message="a first run")
    old = {e["executor_id"] for e in scheduler.executors_of("demo")}
    assert old and all(len(e.split("@-@")) == 3 for e in old)

    scheduler.lifecycle.update_app(app_body(scheduler.packed_app, appCacheEnable=False))
    before = len(scheduler.records("load"))
    wait_until(lambda: len(scheduler.records("load")) >= before + 8, 40, message="two runs after the update")

    def current():
        return {e["executor_id"] for e in scheduler.executors_of("demo")}

    wait_until(lambda: current() and not (current() & old), 30, message="the old executors to stop")
    with scheduler.events.lock:
        errors = [(t, s, m) for t, s, m in scheduler.events.updates if s in ("TASK_ERROR", "TASK_LOST")]
    assert errors == []
    state = requests.get(f"http://{scheduler.cluster.master_url}/state", timeout=5).json()
    finished = [e for fw in state["frameworks"] for e in fw.get("completed_executors", [])]
    assert all(e["executor_id"] not in old for fw in state["frameworks"] for e in fw["executors"])
    assert finished is not None
