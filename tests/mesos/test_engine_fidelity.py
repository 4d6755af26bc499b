"""The engine against what a real Mesos master does (issue #18, #12): silent reconciliation,
FAILURE for an agent, TASK_UNKNOWN, and executors versioned with their app's config. Unit tests
with the in-memory registry and a recording driver; end to end in tests/scheduler/test_mesos_fidelity.py."""

from __future__ import annotations

import logging

import pytest

from elasticjob_cloud.core.models import TaskId
from elasticjob_cloud.core.ports import RunningEntry
from elasticjob_cloud.core.taskdata import STOP_MESSAGE
from elasticjob_cloud.mesos.reconcile import Reconciliation
from tests.mesos.test_engine import APP, Harness, job_body
from tests.support import record_running


@pytest.fixture
def h() -> Harness:
    harness = Harness(reconcile_no_answer_seconds=30.0, unreachable_grace_seconds=100.0)
    harness.lifecycle.register_app(APP)
    return harness


def test_reconciliation_backs_off_and_reports_tasks_left_unanswered():
    r = Reconciliation(no_answer_seconds=10.0, first_retry=1.0, max_retry=4.0)
    r.ask([("t", "S0")], 100.0)
    assert r.due(100.5) == [] and r.next_deadline() == 101.0
    times = [now for now in (101, 102, 103, 104, 105, 106, 107, 108, 109, 110, 111, 112) if r.due(now)]
    assert times == [101, 103, 107, 111]  # 1, 2, 4, then 4 s apart (capped)
    assert r.overdue(109.9) == []
    assert r.overdue(110.0) == [("t", 100.0)] and r.overdue(120.0) == []  # once
    r.ask([("t", "S0")], 130.0)  # asked again: the first ask stays the reference
    r.answered("t")
    assert len(r) == 0 and r.next_deadline() is None


def test_a_task_the_master_never_answers_is_asked_again_then_unreachable_then_lost(h, caplog):
    """A master answers nothing for a task on an agent it recovered after a failover: no shard may
    look running forever (issue #18, section 1)."""
    known = "job@-@0@-@READY@-@S0@-@aaa"
    h.lifecycle.register_job(job_body(shards=1))
    record_running(h.registry, RunningEntry("job", 0, known))
    h.lifecycle.trigger("job")
    h.subscribe()
    asked = len(h.driver.of("reconcile"))
    h.now += 11.0  # past RECONCILE_WAIT: other jobs launch; this task is asked about again
    h.step()
    assert [(known, "S0")] in h.driver.of("reconcile")[asked:]
    caplog.set_level(logging.WARNING, logger="elasticjob_cloud.mesos.engine")
    h.give_offers("S1")
    assert h.driver.launched() == []  # the job's queued run waits for its task in doubt
    assert any("job job stalled" in r.getMessage() for r in caplog.records)
    h.now += 20.0  # 31 s after the first ask: unreachable since that ask
    h.step()
    assert h.engine.running.get(known).unreachable_since == 1000.0
    assert any("no reconciliation answer" in r.getMessage() for r in caplog.records)
    h.now = 1000.0 + 100.0  # the grace period, counted from the first ask
    h.step()
    assert h.running_ids() == []
    assert [e.original_task_id for e in h.registry.failover.entries()] == [known]


def test_an_answer_ends_the_doubt(h):
    known = "job@-@0@-@READY@-@S0@-@aaa"
    h.lifecycle.register_job(job_body(shards=1))
    record_running(h.registry, RunningEntry("job", 0, known))
    h.subscribe()
    h.now += 40.0
    h.step()
    assert h.engine.running.get(known).unreachable_since is not None
    h.status(known, "TASK_RUNNING")
    assert h.engine.running.get(known).unreachable_since is None
    count = len(h.driver.of("reconcile"))
    h.now += 600.0
    h.step()
    assert len(h.driver.of("reconcile")) == count  # answered: not asked again
    assert h.running_ids() == [known]


def test_a_failure_event_for_an_agent_reconciles_its_tasks(h):
    on_s0 = h.run_one()
    h.status(on_s0, "TASK_RUNNING")
    h.engine.on_agent_lost("S1", h.now)
    assert h.driver.of("reconcile")[-1] == []  # none on S1: nothing asked
    h.engine.on_agent_lost("S0", h.now)
    assert h.driver.of("reconcile")[-1] == [(on_s0, "S0")]
    h.status(on_s0, "TASK_UNREACHABLE")  # the answer: grace starts
    assert h.engine.running.get(on_s0).unreachable_since == h.now


def test_task_unknown_is_lost_at_once(h):
    """Master::reconcile case 6: the agent is unknown to the master (restarted without a registry,
    or the agent was removed): waiting a grace period stalled the job for 5 minutes (issue #12)."""
    task = h.run_one()
    h.status(task, "TASK_RUNNING")
    h.status(task, "TASK_UNKNOWN")
    assert h.running_ids() == []
    assert [e.original_task_id for e in h.registry.failover.entries()] == [task]


def test_an_app_update_launches_on_a_new_executor_and_stops_the_old_one_once_idle(h):
    h.lifecycle.register_job(job_body(shards=2, failover=False))
    h.subscribe()
    h.lifecycle.trigger("job")
    h.give_offers("S0")
    first = h.driver.launched()
    old = first[0]["executor"]["executor_id"]["value"]
    assert old.startswith("app@-@S0@-@")
    h.lifecycle.update_app(dict(APP, bootstrapScript="bin/start2.sh"))
    h.engine.dirty = True
    h.lifecycle.trigger("job")
    h.status(first[0]["task_id"]["value"], "TASK_FINISHED")
    h.give_offers("S0", executors=[old])
    assert h.driver.of("message") == []  # the old executor still runs a task of ours
    h.status(first[1]["task_id"]["value"], "TASK_FINISHED")
    assert h.driver.of("message") == [(old, "S0", STOP_MESSAGE.encode())]
    h.give_offers("S0", executors=[old])
    second = h.driver.launched()[2:]
    new = {t["executor"]["executor_id"]["value"] for t in second}
    assert len(second) == 2 and len(new) == 1 and old not in new
    assert h.driver.of("message") == [(old, "S0", STOP_MESSAGE.encode())]  # once


def test_an_idle_executor_of_an_older_version_is_stopped_when_offers_show_it(h):
    h.subscribe()
    h.give_offers("S0", executors=["app@-@S0", "app@-@S1@-@0123456789ab"])  # original format, old version
    stopped = sorted(m[0] for m in h.driver.of("message"))
    assert stopped == ["app@-@S0", "app@-@S1@-@0123456789ab"]
    current = h.engine.task_infos.executor_id(h.engine.catalog.apps["app"], "S0")
    h.give_offers("S0", executors=[current])
    assert len(h.driver.of("message")) == 2  # the current one is kept


def test_deleting_an_app_stops_every_version_of_its_executors(h):
    h.subscribe()
    current = h.engine.task_infos.executor_id(h.engine.catalog.apps["app"], "S0")
    h.give_offers("S0", executors=[current])
    h.lifecycle.delete_app("app")
    h.step()
    assert [m[0] for m in h.driver.of("message")] == [current]


def test_an_adopted_task_keeps_the_executor_its_update_names(h):
    h.lifecycle.register_job(job_body(shards=1))
    h.subscribe()
    stray = "job@-@0@-@READY@-@S0@-@stray"
    update = {
        "task_id": {"value": stray},
        "state": "TASK_RUNNING",
        "agent_id": {"value": "S0"},
        "executor_id": {"value": "app@-@S0@-@oldversion00"},
    }
    h.engine.statuses.on_status(update, h.now)
    h.step()
    assert h.engine.running.get(stray).executor_id == "app@-@S0@-@oldversion00"
    assert TaskId.parse(stray).agent_id == "S0"
