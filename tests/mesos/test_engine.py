"""The engine's decisions, one event at a time: in-memory registry, a recording driver, an explicit clock.

These are unit tests of the scheduling logic (no threads, no Mesos); the end-to-end behaviour with
the real drivers, local Mesos and executors is in tests/scheduler/.
"""

from __future__ import annotations

from typing import Any

import pytest

from elasticjob_cloud.core import paths
from elasticjob_cloud.core.models import TaskId
from elasticjob_cloud.core.ports import FailoverEntry, RunningEntry
from elasticjob_cloud.core.taskdata import JOB_FAILURE_PREFIX, STOP_MESSAGE
from elasticjob_cloud.exceptions import RegistryUnavailable
from elasticjob_cloud.lifecycle import Lifecycle
from elasticjob_cloud.mesos import engine_prepare
from elasticjob_cloud.mesos.engine import RECONCILE_WAIT, Engine, EngineConfig
from elasticjob_cloud.registry import Registry
from tests.support import clear_ready, queue_runs, record_running

APP = {
    "appName": "app",
    "appURL": "http://h/app.tar.gz",
    "bootstrapScript": "bin/start.sh",
    "cpuCount": 1,
    "memoryMB": 128,
}


def job_body(name: str = "job", shards: int = 3, **changes: Any) -> dict[str, Any]:
    body = {
        "jobName": name,
        "appName": "app",
        "jobClass": "x.Job",
        "jobType": "SIMPLE",
        "jobExecutionType": "TRANSIENT",
        "cron": "0 0 0 1 1 ? 2099",
        "shardingTotalCount": shards,
        "cpuCount": 1,
        "memoryMB": 128,
        "failover": True,
        "misfire": True,
    }
    body.update(changes)
    return body


class RecordingDriver:
    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []
        self.fail_launch = False
        self.lose_answer = False  # the ACCEPT went out, its answer never came
        self.fail_decline = False  # no connection to the master

    def launch_many(self, launches, refuse_seconds):
        for offer_ids, tasks in launches:
            self.calls.append(("launch", (list(offer_ids), tasks)))
            yield None if self.lose_answer else not self.fail_launch

    def decline(self, offer_ids, refuse_seconds):
        self.calls.append(("decline", (list(offer_ids), refuse_seconds)))
        return not self.fail_decline

    def suppress(self):
        self.calls.append(("suppress", None))
        return True

    def revive(self):
        self.calls.append(("revive", None))
        return True

    def kill(self, task_id, agent_id):
        self.calls.append(("kill", task_id))
        return True

    def reconcile(self, tasks):
        self.calls.append(("reconcile", list(tasks)))
        return True

    def message(self, executor_id, agent_id, data):
        self.calls.append(("message", (executor_id, agent_id, data)))
        return True

    def acknowledge(self, status):
        self.calls.append(("acknowledge", status["task_id"]["value"]))
        return True

    def of(self, kind: str) -> list[Any]:
        return [args for name, args in self.calls if name == kind]

    def launched(self) -> list[dict[str, Any]]:
        return [task for _, tasks in self.of("launch") for task in tasks]


def offer(n: int, agent: str = "S0", cpus: float = 8, mem: float = 4096, executors=()) -> dict[str, Any]:
    return {
        "id": {"value": f"o{n}"},
        "agent_id": {"value": agent},
        "hostname": f"host-{agent}",
        "resources": [
            {"name": "cpus", "type": "SCALAR", "scalar": {"value": cpus}},
            {"name": "mem", "type": "SCALAR", "scalar": {"value": mem}},
        ],
        "executor_ids": [{"value": e} for e in executors],
    }


class Harness:
    def __init__(self, registry: Registry | None = None, **config: Any):
        self.registry = registry or Registry.in_memory()
        self.lifecycle = Lifecycle(self.registry)
        self.next_fire: float | None = None
        self.engine = Engine(self.registry, EngineConfig(time_zone="UTC", **config), lambda: self.next_fire)
        self.unwatch = self.engine.catalog.watch(lambda: setattr(self.engine, "dirty", True))
        self.driver = RecordingDriver()
        self.engine.driver = self.driver
        self.now = 1000.0
        self.offers = 0

    def subscribe(self) -> None:
        self.engine.on_registered("fw-1", "master:5050", self.now)
        self.step()

    def step(self) -> None:
        self.engine.timers(self.now)
        if self.engine.dirty:
            self.engine.round(self.now)
        self.engine.flush()

    def give_offers(self, *agents: str, cpus: float = 8, mem: float = 4096, executors=()) -> None:
        batch = []
        for agent in agents:
            self.offers += 1
            batch.append(offer(self.offers, agent, cpus, mem, executors))
        self.engine.on_offers(batch, self.now)
        self.step()

    def status(self, task_id: str, state: str, message: str | None = None) -> None:
        agent = TaskId.parse(task_id).agent_id
        update = {"task_id": {"value": task_id}, "state": state, "agent_id": {"value": agent}, "uuid": "u"}
        if message is not None:
            update["message"] = message
        self.engine.statuses.on_status(update, self.now)
        self.step()

    def run_one(self, **job: Any) -> str:
        """Register a 1-shard job, subscribe, trigger it, offer S0: the launched task's ID."""
        self.lifecycle.register_job(job_body(shards=1, **job))
        self.subscribe()
        self.lifecycle.trigger(job.get("name", "job"))
        self.give_offers("S0")
        return self.driver.launched()[0]["task_id"]["value"]

    def running_ids(self) -> list[str]:
        return sorted(e.task_id for e in self.registry.running.entries())


@pytest.fixture
def h() -> Harness:
    harness = Harness()
    harness.lifecycle.register_app(APP)
    return harness


def test_registration_saves_the_framework_id_and_reconciles_implicitly_when_nothing_runs(h):
    h.subscribe()
    assert h.registry.framework_id.get() == "fw-1"
    assert h.driver.of("reconcile") == [[]]
    assert ("suppress", None) in h.driver.calls  # nothing pending: no offers wanted


def test_a_ready_run_launches_every_shard_and_is_recorded_before_the_launch(h):
    h.lifecycle.register_job(job_body(shards=3))
    h.subscribe()
    h.lifecycle.trigger("job")
    h.engine.dirty = True
    h.give_offers("S0", "S1")
    tasks = h.driver.launched()
    assert sorted(TaskId.parse(t["task_id"]["value"]).sharding_item for t in tasks) == [0, 1, 2]
    assert h.registry.ready.counts() == {}
    assert h.running_ids() == sorted(t["task_id"]["value"] for t in tasks)


def test_a_run_that_does_not_fit_waits_whole_and_its_offers_are_declined_after_the_hold(h):
    h.lifecycle.register_job(job_body(shards=3))
    h.subscribe()
    h.lifecycle.trigger("job")
    h.give_offers("S0", cpus=2.5, mem=4096)  # app executor 1 cpu + 3 shards x 1 cpu = 4 > 2.5
    assert h.driver.launched() == []
    assert h.registry.ready.counts() == {"job": 1}
    assert h.driver.of("decline") == []  # held: work is pending
    h.now += 1.0
    h.step()
    assert h.driver.of("decline") == [(["o1"], 0.0)]


def test_a_second_run_waits_for_the_first_to_finish(h):
    h.lifecycle.register_job(job_body(shards=1))
    h.subscribe()
    h.lifecycle.trigger("job")
    h.lifecycle.trigger("job")
    h.give_offers("S0")
    first = h.driver.launched()
    assert len(first) == 1 and h.registry.ready.counts() == {"job": 1}
    h.give_offers("S0")
    assert len(h.driver.launched()) == 1  # still running: the queued run waits
    h.status(first[0]["task_id"]["value"], "TASK_RUNNING")
    h.status(first[0]["task_id"]["value"], "TASK_FINISHED")
    h.give_offers("S0")
    assert len(h.driver.launched()) == 2 and h.registry.ready.counts() == {}
    assert h.engine.stats.finished == 1


@pytest.mark.parametrize(
    ("failover", "state", "message", "queued"),
    [
        (True, "TASK_LOST", None, True),
        (False, "TASK_LOST", None, False),
        (True, "TASK_FAILED", JOB_FAILURE_PREFIX + "boom", False),  # the job said no: not failed over
        (True, "TASK_FAILED", "executor crashed", True),
        (True, "TASK_KILLED", None, False),
        (True, "TASK_FINISHED", None, False),
    ],
)
def test_final_states_and_failover(h, failover, state, message, queued):
    task_id = h.run_one(failover=failover)
    h.status(task_id, state, message)
    assert h.running_ids() == []
    assert (h.registry.failover.entries() == [FailoverEntry("job", 0, task_id)]) is queued


def test_a_failover_shard_launches_alone_and_prefers_another_agent(h):
    h.lifecycle.register_job(job_body(shards=2))
    h.registry.failover.add(FailoverEntry("job", 1, "job@-@1@-@READY@-@S0@-@u"))
    h.subscribe()
    h.give_offers("S0", "S1")
    (task,) = h.driver.launched()
    parsed = TaskId.parse(task["task_id"]["value"])
    assert (parsed.sharding_item, parsed.task_type.value, parsed.agent_id) == (1, "FAILOVER", "S1")
    assert h.registry.failover.entries() == []


def test_a_watched_failover_queue_is_read_only_after_a_reported_change(h):
    """Rounds skip the (nearly always empty) failover read until the watch reports a change; the
    reported entry is then launched. Unwatched, every round reads (the test above)."""
    h.engine.failover_watched = True
    h.lifecycle.register_job(job_body(shards=2))
    h.subscribe()  # the first round reads: empty
    h.registry.failover.add(FailoverEntry("job", 1, "job@-@1@-@READY@-@S0@-@u"))
    h.give_offers("S0")
    assert h.driver.launched() == []  # no change reported yet: not read
    h.engine.failover_changed("/state/failover/job/1")
    h.engine.dirty = True
    h.give_offers("S1")
    (task,) = h.driver.launched()
    assert TaskId.parse(task["task_id"]["value"]).task_type.value == "FAILOVER"
    assert h.registry.failover.entries() == []


def test_unreachable_is_kept_through_the_grace_period_then_failed_over(h):
    h.engine.config = EngineConfig(time_zone="UTC", unreachable_grace_seconds=30)
    task_id = h.run_one()
    h.status(task_id, "TASK_UNREACHABLE")
    h.now += 29
    h.step()
    assert h.running_ids() == [task_id] and h.registry.failover.entries() == []
    h.now += 1
    h.step()
    assert h.running_ids() == [] and h.registry.failover.entries() == [FailoverEntry("job", 0, task_id)]


def test_the_grace_period_runs_from_the_masters_unreachable_time(h):
    """A leader that hears of an unreachable task late (it took over since) does not start the grace
    period again: it runs from the ``unreachable_time`` the master sends."""
    h.engine.config = EngineConfig(time_zone="UTC", unreachable_grace_seconds=30)
    task_id = h.run_one()
    agent = TaskId.parse(task_id).agent_id
    since = h.now - 25
    update = {
        "task_id": {"value": task_id},
        "state": "TASK_UNREACHABLE",
        "agent_id": {"value": agent},
        "unreachable_time": {"nanoseconds": int(since * 1e9)},
    }
    h.engine.statuses.on_status(update, h.now)
    h.step()
    h.now += 4
    h.step()
    assert h.running_ids() == [task_id]
    h.now += 1.5
    h.step()
    assert h.running_ids() == [] and h.registry.failover.entries() == [FailoverEntry("job", 0, task_id)]


def test_news_within_the_grace_period_cancels_it(h):
    h.engine.config = EngineConfig(time_zone="UTC", unreachable_grace_seconds=30)
    task_id = h.run_one()
    h.status(task_id, "TASK_UNREACHABLE")
    h.now += 10
    h.status(task_id, "TASK_RUNNING")
    h.now += 60
    h.step()
    assert h.running_ids() == [task_id]


def test_disabled_jobs_do_not_launch_and_disabling_kills_running_tasks(h):
    h.lifecycle.register_job(job_body(name="a", shards=1))
    h.lifecycle.register_job(job_body(name="b", shards=1))
    h.subscribe()
    h.lifecycle.trigger("a")
    h.give_offers("S0")
    running = h.driver.launched()[0]["task_id"]["value"]
    h.lifecycle.disable_job("a")
    h.lifecycle.disable_job("b")
    h.lifecycle.trigger("b")
    h.give_offers("S0")
    assert h.driver.of("kill") == [running]
    assert len(h.driver.launched()) == 1  # b is disabled: nothing launched
    h.status(running, "TASK_KILLED")
    assert h.running_ids() == []


def test_deregistering_kills_and_a_running_update_of_an_unknown_job_is_killed(h):
    task_id = h.run_one()
    h.lifecycle.deregister_job("job")
    h.step()
    assert h.driver.of("kill") == [task_id]


def test_daemon_jobs_run_as_desired_state_and_relaunch_a_killed_shard(h):
    h.lifecycle.register_job(job_body(name="d", shards=2, jobExecutionType="DAEMON", cron="0/5 * * * * ?"))
    h.subscribe()
    h.give_offers("S0")
    first = sorted(t["task_id"]["value"] for t in h.driver.launched())
    assert [TaskId.parse(t).task_type.value for t in first] == ["READY", "READY"]
    h.status(first[0], "TASK_RUNNING")
    h.status(first[0], "TASK_KILLED")
    h.give_offers("S0")
    relaunched = h.driver.launched()[2:]
    assert len(relaunched) == 1
    parsed = TaskId.parse(relaunched[0]["task_id"]["value"])
    assert (parsed.sharding_item, parsed.task_type.value) == (
        TaskId.parse(first[0]).sharding_item,
        "FAILOVER",
    )


def test_updating_a_daemon_job_restarts_its_tasks(h):
    h.lifecycle.register_job(job_body(name="d", shards=1, jobExecutionType="DAEMON", cron="0/5 * * * * ?"))
    h.subscribe()
    h.give_offers("S0")
    task_id = h.driver.launched()[0]["task_id"]["value"]
    h.lifecycle.update_job(job_body(name="d", shards=1, jobExecutionType="DAEMON", cron="0/7 * * * * ?"))
    h.step()
    assert h.driver.of("kill") == [task_id]


def test_no_hoarding_decline_and_suppress_when_idle_hold_when_a_fire_is_imminent(h):
    h.subscribe()
    h.next_fire = h.now + 0.5
    h.engine.suppressed = False
    h.give_offers("S0")
    assert h.driver.of("decline") == []  # a fire is due within offer_hold_seconds
    h.next_fire = h.now + 600
    h.now += 1.0
    h.step()
    assert h.driver.of("decline") == [(["o1"], 0.0)]
    h.give_offers("S0")
    assert h.driver.of("decline")[-1] == (["o2"], 30.0)
    assert h.engine.suppressed


def test_new_work_revives_a_suppressed_framework(h):
    h.lifecycle.register_job(job_body(shards=1))
    h.subscribe()
    assert h.engine.suppressed
    h.lifecycle.trigger("job")
    h.engine.dirty = True
    h.step()
    assert ("revive", None) in h.driver.calls and not h.engine.suppressed


def test_a_new_leader_reconciles_what_zookeeper_says_runs_before_launching(h):
    h.lifecycle.register_job(job_body(shards=2))
    known = "job@-@0@-@READY@-@S0@-@aaa"
    record_running(h.registry, RunningEntry("job", 0, known))
    h.lifecycle.trigger("job")
    h.lifecycle.register_job(job_body(name="other", shards=1))
    h.lifecycle.trigger("other")
    h.subscribe()
    assert h.driver.of("reconcile") == [[(known, "S0")]]
    h.give_offers("S0")
    assert h.driver.launched() == []  # waiting for the answers
    h.status(known, "TASK_RUNNING")
    assert h.driver.of("reconcile")[-1] == []  # then implicit
    h.give_offers("S1")
    launched = [TaskId.parse(t["task_id"]["value"]).job_name for t in h.driver.launched()]
    assert launched == ["other"]  # "job" still runs: its queued run waits, no duplicate shard


def test_reconciliation_gives_up_waiting_after_a_deadline(h):
    record_running(h.registry, RunningEntry("job", 0, "job@-@0@-@READY@-@S0@-@aaa"))
    h.lifecycle.register_job(job_body(shards=1))
    h.subscribe()
    assert h.engine.awaiting
    h.now += RECONCILE_WAIT
    h.step()
    assert h.engine.awaiting is None


def test_an_unknown_running_task_is_adopted_when_its_shard_is_free_and_killed_when_taken(h):
    h.lifecycle.register_job(job_body(shards=1))
    h.subscribe()
    stray = "job@-@0@-@READY@-@S0@-@stray"
    h.status(stray, "TASK_RUNNING")
    assert h.running_ids() == [stray]
    duplicate = "job@-@0@-@READY@-@S1@-@dup"
    h.status(duplicate, "TASK_RUNNING")
    assert h.driver.of("kill") == [duplicate]
    assert h.running_ids() == [stray]


def test_under_allow_an_unknown_task_of_a_taken_shard_is_adopted_under_its_own_record(h):
    """Its job's runs may overlap: a second task of the shard is another run's, not a duplicate."""
    h.lifecycle.register_job(job_body(shards=1, concurrencyPolicy="ALLOW"))
    h.subscribe()
    first, second = "job@-@0@-@READY@-@S0@-@first", "job@-@0@-@READY@-@S1@-@second"
    h.status(first, "TASK_RUNNING")
    h.status(second, "TASK_RUNNING")
    assert h.driver.of("kill") == [] and sorted(h.running_ids()) == [first, second]
    assert sorted(h.registry.tree.children(paths.running_job("job"))) == ["job@-@0", second]
    h.status(second, "TASK_FINISHED")
    assert h.registry.tree.children(paths.running_job("job")) == ["job@-@0"]


def two_overlapping_runs(h, **fields: Any) -> list[str]:
    """A one-shard ALLOW job triggered twice, each run launched on S0 while the other runs."""
    h.lifecycle.register_job(job_body(shards=1, concurrencyPolicy="ALLOW", **fields))
    h.subscribe()
    for _ in range(2):
        h.lifecycle.trigger("job")
        h.give_offers("S0")
    return [t["task_id"]["value"] for t in h.driver.launched()]


def test_under_allow_a_lost_shard_runs_again_while_a_later_runs_task_of_it_runs(h):
    first, second = two_overlapping_runs(h, failover=True)
    assert sorted(h.running_ids()) == sorted([first, second])  # overlapping: no wait for the first
    h.status(first, "TASK_LOST")
    assert [e.original_task_id for e in h.registry.failover.entries()] == [first]
    h.give_offers("S1")
    again = h.driver.launched()[-1]["task_id"]["value"]
    assert again.split("@-@")[2] == "FAILOVER" and sorted(h.running_ids()) == sorted([second, again])
    assert sorted(h.registry.tree.children(paths.running_job("job"))) == sorted(["job@-@0", second])
    assert h.registry.failover.entries() == []


def test_under_allow_one_shard_lost_in_two_runs_at_once_runs_again_for_each(h):
    """One agent's loss takes the shard of both overlapping runs: the second entry is queued beside
    the shard's own (under the lost task's ID) and each runs again, one launch per round."""
    first, second = two_overlapping_runs(h, failover=True)
    h.status(first, "TASK_LOST")
    h.status(second, "TASK_LOST")
    entries = h.registry.failover.entries()
    assert [(e.original_task_id, e.record) for e in entries] == [(first, None), (second, second)]
    h.status(second, "TASK_LOST")  # resent: the task is queued already, nothing more
    assert len(h.registry.failover.entries()) == 2
    assert h.engine.stats.counters["failovers_folded"] == 0
    h.give_offers("S1")
    h.give_offers("S1")
    again = [t["task_id"]["value"] for t in h.driver.launched()[2:]]
    assert [t.split("@-@")[2] for t in again] == ["FAILOVER", "FAILOVER"]
    assert sorted(h.running_ids()) == sorted(again) and h.registry.failover.entries() == []


def test_under_allow_a_failure_whose_shard_waits_for_its_retry_is_folded_into_it(h):
    first, second = two_overlapping_runs(h, retry={"maxRetries": 3, "initialBackoffSeconds": 30})
    h.status(first, "TASK_FAILED", f"{JOB_FAILURE_PREFIX}boom")
    h.status(second, "TASK_FAILED", f"{JOB_FAILURE_PREFIX}boom")
    assert [e.original_task_id for e in h.registry.failover.entries()] == [first]
    assert (h.engine.stats.counters["retries"], h.engine.stats.counters["failovers_folded"]) == (1, 1)


def test_a_launch_the_master_refused_puts_the_shards_on_the_failover_queue(h):
    h.lifecycle.register_job(job_body(shards=2, failover=False))
    h.subscribe()
    h.lifecycle.trigger("job")
    h.driver.fail_launch = True
    h.give_offers("S0")
    assert h.running_ids() == []
    assert sorted(e.sharding_item for e in h.registry.failover.entries()) == [0, 1]
    assert h.registry.ready.counts() == {}


def test_deleting_an_app_sends_stop_to_its_executors(h):
    h.subscribe()
    h.give_offers("S0", executors=["app@-@S0"])
    h.lifecycle.delete_app("app")
    h.step()
    assert h.driver.of("message") == [("app@-@S0", "S0", STOP_MESSAGE.encode())]


def test_a_ready_mark_of_a_deregistered_job_is_removed(h):
    h.subscribe()
    h.registry.tree.ensure("/state/ready/ghost")
    h.engine.dirty = True
    h.step()
    assert h.registry.ready.counts() == {}


def test_a_ready_mark_of_a_job_the_catalog_has_not_seen_yet_is_kept_and_launched(h):
    h.subscribe()
    for unwatch in h.unwatch:  # the config watch lags behind the ready mark
        unwatch()
    h.lifecycle.register_job(job_body(name="fresh", shards=1))
    queue_runs(h.registry, "fresh")
    h.engine.dirty = True
    h.give_offers("S0")
    h.step()
    assert [TaskId.parse(t["task_id"]["value"]).job_name for t in h.driver.launched()] == ["fresh"]


def test_a_resubscription_with_a_known_id_keeps_the_framework_id_and_revives(h):
    h.engine.on_registered("fw-stored", "master:5050", h.now)
    assert h.engine.framework_id == "fw-stored" and h.registry.framework_id.get() == "fw-stored"
    assert h.driver.calls[0] == ("revive", None)


def test_the_running_node_of_a_deregistered_job_goes_with_its_last_task(h):
    task_id = h.run_one()
    assert h.registry.tree.exists("/state/running/job")
    h.lifecycle.deregister_job("job")
    h.step()
    h.status(task_id, "TASK_KILLED")
    assert not h.registry.tree.exists("/state/running/job")


def test_periodic_reconciliation_is_explicit_then_implicit():
    h = Harness(reconcile_interval_seconds=60)
    h.lifecycle.register_app(APP)
    task_id = h.run_one()
    before = len(h.driver.of("reconcile"))
    h.now += 59
    h.step()
    assert len(h.driver.of("reconcile")) == before
    h.now += 1
    h.step()
    assert h.driver.of("reconcile")[before:] == [[(task_id, "S0")], []]


def test_an_update_is_acknowledged_only_once_its_running_state_change_is_in_zookeeper(h):
    task_id = h.run_one()
    commit_many = h.registry.tree.commit_many
    h.registry.tree.commit_many = lambda batches: [RegistryUnavailable("down")] * len(batches)
    h.status(task_id, "TASK_FINISHED")
    assert h.driver.of("acknowledge") == []  # the removal is not written yet
    h.registry.tree.commit_many = commit_many
    h.step()
    assert h.driver.of("acknowledge") == [task_id] and h.running_ids() == []


def test_a_jobs_running_node_and_task_data_are_prepared_before_its_first_fire(h):
    h.lifecycle.register_job(job_body(name="early", shards=2))
    h.subscribe()
    assert h.registry.tree.exists(paths.running_job("early"))  # before any run
    assert ("early", 1) in h.engine.task_infos._data
    h.lifecycle.register_job(job_body(name="later", shards=1))  # registered while subscribed
    h.step()
    assert h.registry.tree.exists(paths.running_job("later"))
    written = h.engine.stats.zk_ops
    h.lifecycle.trigger("later")
    h.engine.dirty = True
    h.give_offers("S0")
    assert len(h.driver.launched()) == 1
    assert h.engine.stats.zk_ops - written == 2  # ready mark taken, task recorded: no node create


def test_a_full_loads_task_data_is_prepared_a_slice_a_step_once_launching_can_start(h, monkeypatch):
    """A new leader with thousands of jobs launches before it prepares them all (issue #13)."""
    monkeypatch.setattr("elasticjob_cloud.mesos.engine_prepare.PREPARE_AT_ONCE", 2)
    for n in range(5):
        h.lifecycle.register_job(job_body(name=f"j{n}", shards=1))
    h.engine.round(h.now)  # the first load, before the subscription: nothing prepared yet
    assert h.engine.task_infos._data == {} and len(h.engine.unprepared) == 5
    assert not engine_prepare.due(h.engine)  # not while it cannot launch yet
    h.subscribe()
    prepared = []
    while h.engine.unprepared:
        assert engine_prepare.due(h.engine) and h.engine.next_deadline() == 0.0  # due at once
        h.step()
        prepared.append(len(h.engine.task_infos._data))
    assert prepared == [2, 4, 5]
    assert set(h.engine.task_infos._data) == {(f"j{n}", 0) for n in range(5)}


def test_a_running_node_that_could_not_be_created_ahead_is_created_by_the_first_launch(h):
    h.lifecycle.register_job(job_body(name="late", shards=1))

    def down(batches):
        raise RegistryUnavailable("down")

    commit_many = h.registry.tree.commit_many
    h.registry.tree.commit_many = down
    h.subscribe()  # the round goes on without the node
    h.registry.tree.commit_many = commit_many
    assert not h.registry.tree.exists(paths.running_job("late"))
    h.lifecycle.trigger("late")
    h.engine.dirty = True
    h.give_offers("S0")
    assert len(h.driver.launched()) == 1 and h.registry.tree.exists(paths.running_job("late"))


def test_a_launch_thought_lost_that_ran_after_all_is_adopted_and_not_run_again(h):
    """An ACCEPT whose answer was lost but which the master carried out: its shards were queued for
    failover; the task's RUNNING update then shows it runs, so the shard must not run twice."""
    h.lifecycle.register_job(job_body(shards=1))
    h.subscribe()
    h.lifecycle.trigger("job")
    h.driver.fail_launch = True
    h.give_offers("S0")
    (lost,) = h.driver.launched()
    task_id = lost["task_id"]["value"]
    assert [e.sharding_item for e in h.registry.failover.entries()] == [0]
    h.driver.fail_launch = False
    h.status(task_id, "TASK_RUNNING")  # before any offer could relaunch the shard
    assert h.running_ids() == [task_id]
    assert h.registry.failover.entries() == []
    h.status(task_id, "TASK_FINISHED")
    h.engine.dirty = True
    h.give_offers("S1")
    assert len(h.driver.launched()) == 1  # nothing launched again


def lose_a_launch_answer(h, **job: Any) -> str:
    """A 1-shard job triggered, its ACCEPT sent but the answer lost: the in-doubt task's ID."""
    h.lifecycle.register_job(job_body(shards=1, **job))
    h.subscribe()
    h.lifecycle.trigger("job")
    h.driver.lose_answer = True
    h.give_offers("S0")
    h.driver.lose_answer = False
    (sent,) = h.driver.launched()
    task_id = sent["task_id"]["value"]
    assert h.driver.of("reconcile")[-1] == [(task_id, "S0")]  # asked at once
    # ... right after its ACCEPT's offer was declined: an ACCEPT still on its way launches nothing
    asked = h.driver.calls.index(("reconcile", [(task_id, "S0")]))
    assert h.driver.calls[asked - 1] == ("decline", (["o1"], 0.0))
    assert h.running_ids() == [task_id] and h.registry.failover.entries() == []
    h.give_offers("S1")  # the shard waits for the answer: nothing repeated meanwhile
    assert len(h.driver.launched()) == 1
    return task_id


@pytest.mark.parametrize("failover", [True, False])
def test_a_launch_in_doubt_that_the_master_carried_out_is_adopted_not_repeated(h, failover):
    task_id = lose_a_launch_answer(h, failover=failover)
    h.status(task_id, "TASK_RUNNING")  # the master's answer: it runs
    assert h.running_ids() == [task_id] and h.registry.failover.entries() == []
    assert h.engine.in_doubt == {}
    h.now += 60  # well past the doubt timeout: nothing happens to a task the master confirmed
    h.give_offers("S1")
    h.status(task_id, "TASK_FINISHED")
    h.engine.dirty = True
    h.give_offers("S1")
    assert len(h.driver.launched()) == 1 and h.running_ids() == []


@pytest.mark.parametrize("answer", ["TASK_GONE", "TASK_UNKNOWN", "TASK_LOST"])
@pytest.mark.parametrize("failover", [True, False])
def test_a_launch_in_doubt_that_never_happened_is_launched_once_after_the_answer(h, failover, answer):
    task_id = lose_a_launch_answer(h, failover=failover)
    h.status(task_id, answer)
    assert [(e.sharding_item, e.original_task_id) for e in h.registry.failover.entries()] == [(0, task_id)]
    h.give_offers("S1")
    h.give_offers("S1")
    launched = [t["task_id"]["value"] for t in h.driver.launched()]
    assert len(launched) == 2 and launched[0] == task_id
    assert TaskId.parse(launched[1]).sharding_item == 0
    assert h.running_ids() == [launched[1]] and h.registry.failover.entries() == []
    assert h.engine.stats.launches_in_doubt == 1


def test_a_launch_in_doubt_of_a_job_deregistered_meanwhile_is_not_queued_again(h):
    task_id = lose_a_launch_answer(h)
    h.lifecycle.deregister_job("job")
    h.step()
    h.status(task_id, "TASK_LOST")
    assert h.running_ids() == [] and h.registry.failover.entries() == []
    assert not h.registry.tree.exists(paths.running_job("job"))


def test_a_launch_in_doubt_the_master_never_answers_about_is_launched_again_after_the_timeout(h):
    task_id = lose_a_launch_answer(h, failover=False)
    h.now += h.engine.config.launch_doubt_seconds - 1
    h.give_offers("S1")
    assert len(h.driver.launched()) == 1 and h.running_ids() == [task_id]
    assert h.engine.next_deadline() <= h.now + 1
    h.now += 1
    h.step()
    h.give_offers("S1")
    launched = [t["task_id"]["value"] for t in h.driver.launched()]
    assert len(launched) == 2 and h.running_ids() == [launched[1]]


def reconciled(h, task_id: str, state: str, reason: str = "REASON_RECONCILIATION") -> None:
    agent = TaskId.parse(task_id).agent_id
    update = {"task_id": {"value": task_id}, "state": state, "agent_id": {"value": agent}, "reason": reason}
    h.engine.statuses.on_status(update, h.now)
    h.step()


def test_a_launch_in_doubt_is_asked_about_only_once_its_offers_are_declined(h):
    """Until the master took the DECLINE of the ACCEPT's offers, the ACCEPT may still reach it and
    launch the task: a reconciliation answer that it does not know the task is not final then
    (issue #13)."""
    h.lifecycle.register_job(job_body(shards=1, failover=False))
    h.subscribe()
    h.lifecycle.trigger("job")
    h.driver.lose_answer = h.driver.fail_decline = True
    h.give_offers("S0")
    h.driver.lose_answer = False
    (sent,) = h.driver.launched()
    task_id = sent["task_id"]["value"]
    assert h.driver.of("decline")[-1] == (["o1"], 0.0)
    assert all(task_id not in dict(asked) for asked in h.driver.of("reconcile"))  # not asked yet
    reconciled(h, task_id, "TASK_LOST")  # e.g. a periodic reconciliation: not final
    assert h.running_ids() == [task_id] and h.registry.failover.entries() == []
    h.now += 100  # no doubt timeout runs before the fence
    h.step()
    assert h.running_ids() == [task_id] and h.driver.of("decline")[-1] == (["o1"], 0.0)
    assert h.engine.next_deadline() is not None and h.engine.next_deadline() <= h.now + 2
    h.driver.fail_decline = False
    h.now += 2
    h.step()
    asked = h.driver.calls.index(("reconcile", [(task_id, "S0")]))
    assert h.driver.calls[asked - 1] == ("decline", (["o1"], 0.0))
    reconciled(h, task_id, "TASK_LOST")  # asked after the fence: final
    assert [(e.sharding_item, e.original_task_id) for e in h.registry.failover.entries()] == [(0, task_id)]
    h.give_offers("S1")
    assert len(h.driver.launched()) == 2 and h.running_ids() == [h.driver.launched()[1]["task_id"]["value"]]


def test_the_masters_refusal_of_an_unfenced_launch_in_doubt_is_final(h):
    """The master answering the ACCEPT itself (its offers were no longer valid) needs no fence."""
    h.lifecycle.register_job(job_body(shards=1, failover=False))
    h.subscribe()
    h.lifecycle.trigger("job")
    h.driver.lose_answer = h.driver.fail_decline = True
    h.give_offers("S0")
    h.driver.lose_answer = h.driver.fail_decline = False
    (sent,) = h.driver.launched()
    task_id = sent["task_id"]["value"]
    reconciled(h, task_id, "TASK_LOST", "REASON_INVALID_OFFERS")
    assert [e.original_task_id for e in h.registry.failover.entries()] == [task_id]
    assert h.engine.fence.unfenced == {} and h.engine.in_doubt == {}


def test_a_shard_failed_over_again_and_again_backs_off_and_a_new_leader_keeps_the_back_off(h):
    """Each failover of a FAILOVER task waits twice as long as the last (1 s, 2 s, ...); the streak
    is in ZooKeeper, so a new leader goes on from it; a run to the end ends the streak."""
    task_id = h.run_one(failover=True)
    h.status(task_id, "TASK_LOST")
    h.give_offers("S0")  # the first failover: at once
    launched = [t["task_id"]["value"] for t in h.driver.launched()]
    assert len(launched) == 2 and TaskId.parse(launched[1]).task_type.value == "FAILOVER"
    for attempt, delay in ((2, 1.0), (3, 2.0)):
        h.status(launched[-1], "TASK_LOST")
        [entry] = h.registry.failover.entries()
        assert (entry.attempt, entry.not_before) == (attempt, h.now + delay)
        h.give_offers("S0")
        assert len(h.driver.launched()) == len(launched), "launched before its back-off ended"
        assert h.engine.next_deadline() == pytest.approx(h.now + delay)
        h.now += delay
        h.give_offers("S0")
        launched = [t["task_id"]["value"] for t in h.driver.launched()]
        assert len(launched) == attempt + 1
    h.status(launched[-1], "TASK_LOST")  # the fourth in a row: 4 s

    leader = Engine(h.registry, EngineConfig(time_zone="UTC"))  # a new leader, same ZooKeeper
    leader.driver = h.driver
    h.engine = leader
    h.subscribe()
    h.give_offers("S0")
    assert len(h.driver.launched()) == len(launched)
    h.now += 4.0
    h.give_offers("S0")
    fifth = h.driver.launched()[-1]["task_id"]["value"]
    assert fifth not in launched
    h.status(fifth, "TASK_RUNNING")
    h.status(fifth, "TASK_FINISHED")
    assert not h.registry.tree.exists(paths.failover_backoff("job", 0))
    h.lifecycle.trigger("job")
    h.give_offers("S0")
    ready = h.driver.launched()[-1]["task_id"]["value"]
    h.status(ready, "TASK_LOST")
    [entry] = h.registry.failover.entries()
    assert entry.attempt == 1 and entry.not_before <= h.now  # a new streak: at once again


def test_a_failing_command_is_recorded_not_failed_over_and_the_log_says_why(h, caplog):
    task_id = h.run_one(failover=True)
    update = {
        "task_id": {"value": task_id},
        "state": "TASK_FAILED",
        "agent_id": {"value": "S0"},
        "message": "Command exited with status 1",
        "reason": "REASON_COMMAND_EXECUTOR_FAILED",
        "source": "SOURCE_EXECUTOR",
    }
    with caplog.at_level("WARNING", logger="elasticjob_cloud.mesos.statuses"):
        h.engine.statuses.on_status(update, h.now)
        h.step()
    assert h.registry.failover.entries() == [] and h.running_ids() == []
    assert h.engine.stats.failed == 1
    [line] = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    for part in ("TASK_FAILED", "job job", "shard 0", task_id, "agent S0", "Command exited with status 1"):
        assert part in line, line
    assert "REASON_COMMAND_EXECUTOR_FAILED" in line and "not failed over" in line


@pytest.mark.parametrize("state", ["TASK_KILLED", "TASK_LOST", "TASK_ERROR", "TASK_DROPPED"])
def test_every_end_but_finished_is_logged_at_warning(h, caplog, state):
    task_id = h.run_one(failover=False)
    with caplog.at_level("DEBUG", logger="elasticjob_cloud.mesos.statuses"):
        h.status(task_id, state, "why it ended")
    [line] = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert line.startswith(f"{state}: job job shard 0 task {task_id} on agent S0: why it ended"), line
    caplog.clear()
    h.lifecycle.trigger("job")
    h.give_offers("S0")
    with caplog.at_level("DEBUG", logger="elasticjob_cloud.mesos.statuses"):
        h.status(h.driver.launched()[-1]["task_id"]["value"], "TASK_FINISHED")
    assert not [r for r in caplog.records if r.levelname == "WARNING"]


def test_a_launch_whose_ready_mark_vanished_keeps_the_jobs_running_node_known(h):
    """The ready node gone between the round's read and its launch transaction fails that
    transaction with NotFound; that says nothing about ``/state/running/{job}``, which still exists:
    the engine must keep knowing it, so the job's next run launches at its first offer with only the
    run's own writes (no node create that fails and defers the run once more)."""
    h.lifecycle.register_job(job_body(name="job", shards=1))
    h.subscribe()
    assert h.registry.tree.exists(paths.running_job("job"))
    h.lifecycle.trigger("job")
    counters = h.registry.ready.counters

    def read_then_vanish(with_record):
        found = counters(with_record)
        clear_ready(h.registry, "job")  # e.g. its run dropped by another writer meanwhile
        return found

    h.registry.ready.counters = read_then_vanish
    h.engine.dirty = True
    h.give_offers("S0")
    assert h.driver.launched() == []  # its transaction failed: nothing launched
    assert "job" in h.engine.running.job_nodes
    h.registry.ready.counters = counters
    h.lifecycle.trigger("job")
    h.engine.dirty = True
    written = h.engine.stats.zk_ops
    h.give_offers("S1")
    assert len(h.driver.launched()) == 1
    assert h.engine.stats.zk_ops - written == 2  # ready mark taken, task recorded
