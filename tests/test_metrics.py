"""``metrics.Metrics`` alone: fire/launch matching, final states counted once, monotonic folding."""

from __future__ import annotations

from types import SimpleNamespace

from prometheus_client.parser import text_string_to_metric_families

from elasticjob_cloud.metrics import Metrics, Vitals


def samples(metrics: Metrics) -> dict:
    body, _ = metrics.exposition()
    found = {}
    for family in text_string_to_metric_families(body.decode()):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def fire(job: str, instant: float, runs: int = 1, kind: str = "FIRE", missed: int = 0):
    return SimpleNamespace(
        job_name=job, kind=SimpleNamespace(value=kind), instant=instant, runs=runs, missed=missed
    )


def task(job: str, item: int, kind: str = "READY") -> str:
    return f"{job}@-@{item}@-@{kind}@-@agent-1@-@uuid-{item}"


def test_one_latency_per_fired_run_and_none_for_triggers():
    metrics = Metrics()
    metrics.engine_event("fire", fire("a", 100.0), 100.01)
    # the run's two shards go to two agents in one round: one observation
    metrics.engine_event("launch", [task("a", 0)], 100.25)
    metrics.engine_event("launch", [task("a", 1)], 100.25)
    # a triggered run (no fire) and a failover launch: counted as launches, no latency
    metrics.engine_event("launch", [task("a", 0)], 105.0)
    metrics.engine_event("launch", [task("b", 0, "FAILOVER")], 105.0)
    found = samples(metrics)
    assert found[("elasticjob_cloud_fire_to_launch_seconds_count", ())] == 1
    assert found[("elasticjob_cloud_fire_to_launch_seconds_sum", ())] == 0.25
    assert found[("elasticjob_cloud_fire_to_launch_seconds_bucket", (("le", "0.25"),))] == 1
    assert found[("elasticjob_cloud_fire_to_launch_seconds_bucket", (("le", "0.1"),))] == 0
    assert found[("elasticjob_cloud_tasks_launched_total", (("type", "READY"),))] == 3
    assert found[("elasticjob_cloud_tasks_launched_total", (("type", "FAILOVER"),))] == 1
    assert found[("elasticjob_cloud_fires_total", ())] == 1


def test_fire_kinds_count_where_they_belong():
    metrics = Metrics()
    metrics.fired(fire("a", 1.0, runs=3))
    metrics.fired(fire("a", 2.0, runs=1, kind="CATCH_UP", missed=4))
    metrics.fired(fire("a", 3.0, runs=0, kind="SKIP", missed=2))
    metrics.fired(fire("a", 4.0, runs=1, kind="REFUSED"))
    metrics.fired(fire("a", 5.0, runs=0, kind="ANCHOR"))
    found = samples(metrics)
    assert found[("elasticjob_cloud_fires_total", ())] == 4
    assert found[("elasticjob_cloud_fires_missed_total", ())] == 6
    assert found[("elasticjob_cloud_fires_refused_total", ())] == 1


def test_a_resent_final_state_is_counted_once():
    metrics = Metrics()
    status = {"task_id": {"value": task("a", 0)}, "state": "TASK_FAILED"}
    metrics.engine_event("status", {"task_id": {"value": task("a", 0)}, "state": "TASK_RUNNING"}, 1.0)
    metrics.engine_event("status", status, 2.0)
    metrics.engine_event("status", status, 3.0)
    found = samples(metrics)
    assert (
        found[("elasticjob_cloud_job_tasks_terminated_total", (("job", "a"), ("state", "TASK_FAILED")))] == 1
    )
    assert not any(
        key[0] == "elasticjob_cloud_job_tasks_terminated_total" and "TASK_RUNNING" in str(key)
        for key in found
    )


def test_engine_counters_stay_monotonic_across_leaderships():
    current: dict = {}
    metrics = Metrics()
    metrics.add_source(lambda: current["vitals"])
    first, second = object(), object()
    current["vitals"] = Vitals(first, {"offers_received": 5.0}, {"TASK_FINISHED": 2.0})
    assert samples(metrics)[("elasticjob_cloud_offers_received_total", ())] == 5
    current["vitals"] = Vitals(first, {"offers_received": 7.0}, {"TASK_FINISHED": 3.0})
    assert samples(metrics)[("elasticjob_cloud_offers_received_total", ())] == 7
    current["vitals"] = Vitals(None, {}, {}, {"leader": ("help", 0.0)})  # leadership lost
    found = samples(metrics)
    assert found[("elasticjob_cloud_offers_received_total", ())] == 7
    assert found[("elasticjob_cloud_leader", ())] == 0
    current["vitals"] = Vitals(second, {"offers_received": 1.0}, {"TASK_FINISHED": 1.0})  # elected again
    found = samples(metrics)
    assert found[("elasticjob_cloud_offers_received_total", ())] == 8
    assert found[("elasticjob_cloud_task_status_updates_total", (("state", "TASK_FINISHED"),))] == 4


def test_run_policy_events_are_their_own_family_not_task_states():
    metrics = Metrics()
    metrics.add_source(lambda: Vitals(object(), {}, {"TASK_FAILED": 2.0, "retries": 1.0, "timed_out": 3.0}))
    found = samples(metrics)
    assert found[("elasticjob_cloud_task_status_updates_total", (("state", "TASK_FAILED"),))] == 2
    assert found[("elasticjob_cloud_run_policy_events_total", (("event", "retries"),))] == 1
    assert found[("elasticjob_cloud_run_policy_events_total", (("event", "timed_out"),))] == 3
    states = {labels for name, labels in found if name == "elasticjob_cloud_task_status_updates_total"}
    assert states == {(("state", "TASK_FAILED"),)}


def test_zookeeper_latency_and_trace_backlog_hook():
    metrics = Metrics()
    metrics.zookeeper_operation("get", 0.002)
    metrics.zookeeper_operation("get", 0.004)
    assert ("elasticjob_cloud_trace_backlog", ()) not in samples(metrics)
    metrics.trace_backlog = lambda: 12
    found = samples(metrics)
    assert found[("elasticjob_cloud_zookeeper_operation_seconds_count", (("operation", "get"),))] == 2
    assert found[("elasticjob_cloud_trace_backlog", ())] == 12
