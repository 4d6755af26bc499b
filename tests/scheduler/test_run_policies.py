"""End to end, run policies (issue #17): each proved from the jobs' own execution records.

Real ZooKeeper, the local Mesos, the pymesos drivers, the executor subprocess and the packed example
app (see ``schedkit``); the leader-change test runs two real ``elasticjob-cloud scheduler`` processes.
"""

from __future__ import annotations

import logging
import time

import pytest
import requests

from elasticjob_cloud.core import paths
from tests.scheduler.schedkit import FAR_FUTURE, app_body, job_body, master_frameworks, read_records
from tests.support import wait_until

pytestmark = pytest.mark.slow


def first_start(scheduler, job: str) -> float:
    return min(r.start for r in scheduler.records(job))


def test_scarce_offers_go_to_higher_priority_then_to_the_earlier_queued_run(make_scheduler) -> None:
    """One agent fits one run at a time (3 of its 4 cpus each). While a blocker runs, three runs are
    queued: two of priority 0 (``y-early`` first, then ``b-late``) and one of priority 5. They start
    by priority, then by queueing instant, where the original went by name (b, y, z)."""
    scheduler = make_scheduler(agents=1)
    names = ("blocker", "y-early", "b-late", "z-high")
    for name in names:
        priority = 5 if name == "z-high" else 0
        parameter = "sleep=2" if name == "blocker" else ""
        scheduler.job(name, cron=FAR_FUTURE, cpuCount=3.0, priority=priority, jobParameter=parameter)
    scheduler.lifecycle.trigger("blocker")
    wait_until(lambda: scheduler.records("blocker"), 20, message="the blocker to start")
    for name in names[1:]:
        scheduler.lifecycle.trigger(name)
        wait_until(lambda n=name: scheduler.engine.queued.oldest(n) is not None, 5, message=f"{name} queued")
    assert scheduler.running("blocker"), "the blocker ended before every run was queued"
    wait_until(lambda: all(scheduler.records(n) for n in names), 40, message="every queued run")
    starts = {name: first_start(scheduler, name) for name in names}
    assert sorted(names, key=starts.get) == ["blocker", "z-high", "y-early", "b-late"], starts
    assert all(len(scheduler.records(n)) == 1 for n in names)


def test_a_queued_run_past_its_starting_deadline_is_dropped_and_logged(scheduler, caplog) -> None:
    """Both jobs run 3 s and are triggered again while running (the second run waits: FORBID). The
    job with ``startingDeadlineSeconds=1`` drops that run after 1 s; the one without runs it late."""
    caplog.set_level(logging.WARNING, logger="elasticjob_cloud.mesos.queued")
    scheduler.job("strict", cron=FAR_FUTURE, jobParameter="sleep=3", startingDeadlineSeconds=1)
    scheduler.job("patient", cron=FAR_FUTURE, jobParameter="sleep=3")
    for name in ("strict", "patient"):
        scheduler.lifecycle.trigger(name)
    wait_until(lambda: scheduler.records("strict") and scheduler.records("patient"), 20, message="first runs")
    for name in ("strict", "patient"):
        scheduler.lifecycle.trigger(name)  # queued behind the running one
    wait_until(
        lambda: scheduler.engine.stats.counters["runs_dropped_by_deadline"] == 1, 10, message="the drop"
    )
    assert not scheduler.registry.ready.counts().get("strict")
    assert any("strict: 1 queued run(s) dropped" in r.getMessage() for r in caplog.records)
    wait_until(lambda: len(scheduler.records("patient")) == 2, 20, message="the late run of patient")
    wait_until(lambda: not scheduler.running("strict"), 10, message="strict's first run to end")
    scheduler.lifecycle.trigger("strict")  # a fresh run still starts: only the stale one was dropped
    wait_until(lambda: len(scheduler.records("strict")) == 2, 20, message="strict's next run")
    first, second = scheduler.records("strict")
    assert second.start - first.start >= 3.0, "the dropped run ran after all"
    assert scheduler.engine.stats.counters["runs_dropped_by_deadline"] == 1


def test_a_triggered_run_uses_its_own_parameters_and_one_key_gives_one_run(scheduler) -> None:
    """Through the REST use case: a run triggered with parameters executes every shard with them, its
    run ID is the last part of each of its task IDs, and the same idempotency key twice is one run;
    a plain trigger afterwards uses the job's own parameters again."""
    scheduler.job("param", cron=FAR_FUTURE, shardingTotalCount=2, shardingItemParameters="0=own0,1=own1")
    body = {
        "jobName": "param",
        "jobParameter": "given",
        "shardingItemParameters": "0=g0,1=g1",
        "idempotencyKey": "k1",
    }
    first = scheduler.lifecycle.trigger_run(body)
    again = scheduler.lifecycle.trigger_run(body)
    assert again == {**first, "queued": False}
    wait_until(lambda: len(scheduler.records("param")) == 2, 20, message="the triggered run")
    wait_until(lambda: not scheduler.running("param"), 10, message="the run to end")
    assert scheduler.lifecycle.trigger_run(body)["runId"] == first["runId"]  # still one run, after it ran
    scheduler.lifecycle.trigger("param")  # the positive event bounding "no second run"
    wait_until(lambda: len(scheduler.records("param")) == 4, 20, message="the plain run")
    triggered, plain = scheduler.records("param")[:2], scheduler.records("param")[2:]
    assert {r.item: r.parameter for r in triggered} == {0: "g0", 1: "g1"}
    assert {r.job_parameter for r in triggered} == {"given"}
    assert {r.task_id.split("@-@")[4] for r in triggered} == {first["runId"]}
    assert {r.item: r.parameter for r in plain} == {0: "own0", 1: "own1"}
    assert {r.job_parameter for r in plain} == {""}
    assert first["runId"] not in {r.task_id.split("@-@")[4] for r in plain}
    assert scheduler.registry.triggered.entries() == []


def test_a_triggered_run_past_its_starting_deadline_is_dropped(scheduler) -> None:
    scheduler.job("strict-param", cron=FAR_FUTURE, jobParameter="sleep=3", startingDeadlineSeconds=1)
    scheduler.lifecycle.trigger("strict-param")
    wait_until(lambda: scheduler.records("strict-param"), 20, message="the first run")
    dropped = scheduler.lifecycle.trigger_run({"jobName": "strict-param", "jobParameter": "late"})
    wait_until(lambda: scheduler.registry.triggered.entries() == [], 10, message="the drop")
    assert scheduler.engine.stats.counters["runs_dropped_by_deadline"] == 1
    wait_until(lambda: not scheduler.running("strict-param"), 10, message="the first run to end")
    scheduler.lifecycle.trigger_run({"jobName": "strict-param", "jobParameter": "fresh"})
    wait_until(lambda: len(scheduler.records("strict-param")) == 2, 20, message="the fresh run")
    assert [r.job_parameter for r in scheduler.records("strict-param")] == ["sleep=3", "fresh"]
    assert dropped["runId"] not in {r.task_id.split("@-@")[4] for r in scheduler.records("strict-param")}


def test_a_shard_past_its_time_limit_is_killed_and_counted_as_timed_out(scheduler) -> None:
    """Both shards sleep 30 s; with ``timeLimitSeconds=2`` each is killed about 2 s after launch."""
    scheduler.job(
        "sleeper", cron=FAR_FUTURE, jobParameter="sleep=30", shardingTotalCount=2, timeLimitSeconds=2
    )
    scheduler.lifecycle.trigger("sleeper")
    wait_until(lambda: len(scheduler.records("sleeper")) == 2, 20, message="both shards to start")
    started = max(r.start for r in scheduler.records("sleeper"))
    wait_until(lambda: not scheduler.running("sleeper"), 15, message="the shards to be killed")
    ended = time.time()
    assert ended - started < 12, "killed by the time limit, not by the end of the sleep"
    for task_id in scheduler.events.launched_of("sleeper"):
        assert scheduler.events.states(task_id)[-1] == "TASK_KILLED", task_id
    assert scheduler.engine.stats.counters["timed_out"] == 2
    assert not scheduler.engine.failover_wake and not scheduler.registry.failover.entries()


def test_replace_kills_the_running_run_and_starts_the_queued_one(scheduler) -> None:
    scheduler.job("replaced", cron=FAR_FUTURE, jobParameter="sleep=30", concurrencyPolicy="REPLACE")
    scheduler.job("forbidden", cron=FAR_FUTURE, jobParameter="sleep=4")
    for name in ("replaced", "forbidden"):
        scheduler.lifecycle.trigger(name)
    wait_until(
        lambda: scheduler.records("replaced") and scheduler.records("forbidden"), 20, message="first runs"
    )
    for name in ("replaced", "forbidden"):
        scheduler.lifecycle.trigger(name)
    wait_until(lambda: len(scheduler.records("replaced")) == 2, 20, message="the replacing run")
    first, second = scheduler.records("replaced")
    assert second.start - first.start < 15, "the first run was not replaced"
    assert scheduler.events.states(first.task_id)[-1] == "TASK_KILLED"
    wait_until(lambda: len(scheduler.records("forbidden")) == 2, 20, message="the waiting run (FORBID)")
    early, late = scheduler.records("forbidden")
    assert late.start - early.start >= 4.0, "FORBID let the runs overlap"
    assert scheduler.engine.stats.counters["replaced"] == 1


def test_a_failing_shard_is_retried_with_growing_gaps_then_fails_for_good(scheduler) -> None:
    """Shard 1 always fails: with ``maxRetries=2`` it runs three times, the second gap about twice the
    first (2 s then 4 s, less up to 20 % jitter); shard 0 succeeds once and is never retried."""
    retry = {"maxRetries": 2, "initialBackoffSeconds": 2, "maxBackoffSeconds": 8}
    scheduler.job(
        "flaky", cron=FAR_FUTURE, shardingTotalCount=2, shardingItemParameters="0=ok,1=fail", retry=retry
    )
    scheduler.lifecycle.trigger("flaky")
    wait_until(
        lambda: scheduler.engine.stats.counters["retries_exhausted"] == 1,
        40,
        message="the retries to run out",
    )
    failing = [r for r in scheduler.records("flaky") if r.item == 1]
    assert len(failing) == 3, failing
    assert [r.task_type for r in failing] == ["READY", "FAILOVER", "FAILOVER"]
    first_gap, second_gap = failing[1].start - failing[0].start, failing[2].start - failing[1].start
    assert first_gap >= 1.6 and second_gap >= 3.2 and second_gap - first_gap > 0.8, (first_gap, second_gap)
    assert [r.item for r in scheduler.records("flaky")].count(0) == 1
    assert scheduler.engine.stats.counters["retries"] == 2
    assert scheduler.registry.failover.entries() == []
    assert scheduler.registry.failover.streak("flaky", 1) == 0  # the count is cleared once it stands


def test_allow_lets_runs_overlap_where_forbid_makes_the_next_run_wait(scheduler) -> None:
    """Both jobs run 5 s and are triggered again while running. The ALLOW job's second run starts at
    once beside the first (its tasks recorded under their task IDs while the shard's own record is
    taken); the FORBID job's waits for the first to end. Every run executes once and leaves no record."""
    sleep = 5.0
    scheduler.job("allowed", cron=FAR_FUTURE, jobParameter=f"sleep={sleep:g}", concurrencyPolicy="ALLOW")
    scheduler.job("forbidden", cron=FAR_FUTURE, jobParameter=f"sleep={sleep:g}")
    for name in ("allowed", "forbidden"):
        scheduler.lifecycle.trigger(name)
    wait_until(
        lambda: scheduler.records("allowed") and scheduler.records("forbidden"), 20, message="first runs"
    )
    for name in ("allowed", "forbidden"):
        scheduler.lifecycle.trigger(name)
    recorded = lambda: scheduler.registry.tree.children(paths.running_job("allowed"))  # noqa: E731
    wait_until(lambda: len(recorded()) == 2, 20, 0.02, message="both runs recorded as running at once")
    records = recorded()
    wait_until(lambda: len(scheduler.records("allowed")) == 2, 20, message="the overlapping run")
    first, second = scheduler.records("allowed")
    assert second.start - first.start < sleep, "the second run did not start while the first ran"
    assert first.task_id != second.task_id and first.item == second.item == 0
    assert sorted(records) == sorted(["allowed@-@0", second.task_id]), records
    wait_until(lambda: len(scheduler.records("forbidden")) == 2, 20, message="the waiting run (FORBID)")
    early, late = scheduler.records("forbidden")
    assert late.start - early.start >= sleep, "FORBID let the runs overlap"
    wait_until(lambda: not scheduler.running("allowed"), 15, message="both ALLOW runs to end")
    for record in (first, second):
        assert scheduler.events.states(record.task_id)[-1] == "TASK_FINISHED", record.task_id
    assert scheduler.registry.tree.children(paths.running_job("allowed")) == []
    assert len(scheduler.records("allowed")) == 2 and not scheduler.registry.failover.entries()


def test_overlapping_runs_are_taken_over_by_a_new_leader_and_each_ends_once(stack, packed_app) -> None:
    """Two runs of an ALLOW job overlap (the shard's own record and one under the second task's ID)
    when the leader is SIGKILLed: the new leader loads both records, reconciles both tasks with the
    master, kills neither, relaunches neither, and deletes each record when its task finishes."""
    one, two = stack.scheduler("one"), stack.scheduler("two")
    wait_until(lambda: one.is_leader() or two.is_leader(), 20, message="a leader")
    leader, standby = (one, two) if one.is_leader() else (two, one)
    url = standby.url
    assert requests.post(url + "/api/app", json=app_body(packed_app), timeout=10).status_code == 204
    body = job_body("overlap", cron=FAR_FUTURE, jobParameter="sleep=6", concurrencyPolicy="ALLOW")
    assert requests.post(url + "/api/job/register", json=body, timeout=10).status_code == 204
    wait_until(lambda: (leader.health() or {}).get("mesos", {}).get("subscribed"), 20, message="subscribed")
    records = lambda: [r for r in read_records(stack.record_dir) if r.job == "overlap"]  # noqa: E731
    for runs in (1, 2):
        assert (
            requests.post(url + "/api/job/trigger", json={"jobName": "overlap"}, timeout=10).status_code
            == 204
        )
        wait_until(lambda n=runs: len(records()) == n, 20, message=f"run {runs} to start")
    entries = stack.registry.running.entries()
    assert sorted(e.record is None for e in entries) == [False, True], entries
    leader.kill()
    wait_until(lambda: standby.is_leader(), 20, message="the standby to take over")
    wait_until(
        lambda: not stack.registry.running.entries(), 30, message="both runs to end under the new leader"
    )
    assert {r.task_id for r in records()} == {e.task_id for e in entries}  # none relaunched

    def states() -> dict[str, str]:  # a task moves to completed_tasks once its end is acknowledged
        (framework,) = master_frameworks(stack.cluster.master_url)
        return {t["id"]: t["state"] for t in framework["tasks"] + framework["completed_tasks"]}

    wait_until(
        lambda: {states().get(e.task_id) for e in entries} == {"TASK_FINISHED"},  # none killed
        10,
        message=f"both tasks FINISHED in the master's state: {states()}",
    )
