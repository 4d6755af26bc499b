"""When queued runs were queued, their launch order, and their starting deadlines (pure logic)."""

from elasticjob_cloud.core.models import ExecutionType, JobConfig, JobType, TaskType
from elasticjob_cloud.core.planning import PendingRun, launch_order
from elasticjob_cloud.core.policies import RunPolicy
from elasticjob_cloud.core.ports import ReadyTake
from elasticjob_cloud.mesos.queued import QueuedRuns


def job(name, **policy):
    return JobConfig(
        name,
        "app",
        JobType.SIMPLE,
        ExecutionType.TRANSIENT,
        "0 * * * * ?",
        1,
        1.0,
        1.0,
        policy=RunPolicy(**policy),
    )


def test_instants_follow_the_counter_oldest_first():
    queued = QueuedRuns()
    queued.observe({"a": (1, 0)}, 10.0)
    queued.observe({"a": (3, 1)}, 12.0)
    assert queued.instants["a"] == [10.0, 12.0, 12.0]
    queued.observe({"a": (2, 2)}, 13.0)  # one taken: the oldest
    assert queued.instants["a"] == [12.0, 12.0]
    queued.observe({}, 14.0)
    assert queued.oldest("a") is None


def test_only_runs_past_the_deadline_expire():
    queued = QueuedRuns()
    jobs = {"a": job("a", starting_deadline_seconds=5), "b": job("b")}
    queued.observe({"a": (1, 0), "b": (1, 0)}, 0.0)
    queued.observe({"a": (2, 1), "b": (1, 0)}, 3.0)
    ready = {"a": (2, 1), "b": (1, 0)}
    assert queued.expired(ready, jobs, 4.9) == []
    assert queued.next_expiry(jobs) == 5.0
    [late] = queued.expired(ready, jobs, 5.0)
    assert (late.job_name, late.runs, late.oldest, late.count, late.version) == ("a", 1, 0.0, 2, 1)
    assert queued.expired(ready, jobs, 100.0)[0].runs == 2  # job b has no deadline: never


def test_launch_order_is_priority_then_failover_then_queued_instant_not_name():
    take = ReadyTake("x", 1, 0)  # a queued run (a daemon's desired shards take none)
    runs = [
        PendingRun(job("a-old"), (0,), TaskType.READY, take),
        PendingRun(job("b-new"), (0,), TaskType.READY, take),
        PendingRun(job("c-high", priority=5), (0,), TaskType.READY, take),
        PendingRun(job("d-failover"), (0,), TaskType.FAILOVER, take),
        PendingRun(job("e-daemon"), (0,), TaskType.READY),
        PendingRun(job("f-low", priority=-1), (0,), TaskType.FAILOVER, take),
    ]
    instants = {"a-old": 20.0, "b-new": 10.0, "c-high": 30.0}
    ordered = [r.job.job_name for r in launch_order(runs, instants.get)]
    assert ordered == ["c-high", "d-failover", "b-new", "a-old", "e-daemon", "f-low"]


def test_a_timed_out_kill_is_traced_as_such_and_other_statuses_are_not():
    from elasticjob_cloud.mesos.overrun import TimeLimits

    limits = TimeLimits()
    limits.timed_out["t1"] = 5
    killed = {"task_id": {"value": "t1"}, "state": "TASK_KILLED", "message": "killed"}
    assert limits.traced(killed)["message"] == "TIMED_OUT: killed after timeLimitSeconds=5"
    assert limits.traced({**killed, "state": "TASK_RUNNING"})["message"] == "killed"
    assert limits.traced({**killed, "task_id": {"value": "t2"}}) is not None
    assert limits.traced({**killed, "task_id": {"value": "t2"}})["message"] == "killed"


def test_retry_delays_double_up_to_the_maximum_less_the_jitter():
    from elasticjob_cloud.core.policies import RetryPolicy, retry_delay

    policy = RetryPolicy(max_retries=10, initial_backoff_seconds=10, max_backoff_seconds=60)
    assert [retry_delay(policy, n, 1.0) for n in (1, 2, 3, 4, 5)] == [10, 20, 40, 60, 60]
    assert retry_delay(policy, 1, 0.0) == 8.0  # at most 20 % less
    assert 8.0 <= retry_delay(policy, 1, 0.5) <= 10.0
