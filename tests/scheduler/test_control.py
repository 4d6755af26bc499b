"""End to end, operators acting on live jobs: disable/enable, deregister during a run, app delete."""

from __future__ import annotations

import time

import pytest

from elasticjob_cloud.core import paths
from elasticjob_cloud.registry.tree import Delete
from tests.scheduler.schedkit import APP, FAR_FUTURE, pid_alive, stays_true
from tests.support import wait_until

pytestmark = pytest.mark.slow


def test_disabled_job_launches_nothing_and_resumes_when_enabled(scheduler) -> None:
    scheduler.job("toggled", shardingTotalCount=2)
    wait_until(lambda: len(scheduler.records("toggled")) >= 2, 20, message="a first run")
    wait_until(
        lambda: not scheduler.running("toggled") and 0.2 < time.time() % 2 < 1.4,
        10,
        message="a pause between fires",
    )
    scheduler.lifecycle.disable_job("toggled")
    wait_until(lambda: not scheduler.running("toggled"), 10, message="no task of the job left")
    launched = len(scheduler.events.launched_of("toggled"))

    assert stays_true(lambda: len(scheduler.events.launched_of("toggled")) == launched, 4.5), (
        "a disabled job was launched"
    )

    scheduler.lifecycle.enable_job("toggled")
    wait_until(
        lambda: len(scheduler.events.launched_of("toggled")) >= launched + 2,
        6,
        message="launches after enable",
    )
    wait_until(
        lambda: len(scheduler.records("toggled")) >= launched + 2, 10, message="executions after enable"
    )


def test_deregistering_a_job_during_a_run_kills_its_tasks(scheduler) -> None:
    scheduler.job("long", cron=FAR_FUTURE, shardingTotalCount=2, jobParameter="sleep=60")
    scheduler.lifecycle.trigger("long")
    wait_until(lambda: len(scheduler.records("long")) == 2, 20, message="both shards to start")
    task_ids = {r.task_id for r in scheduler.records("long")}
    pids = {r.pid for r in scheduler.records("long")}
    scheduler.settle()

    scheduler.lifecycle.deregister_job("long")

    for task_id in task_ids:
        wait_until(
            lambda t=task_id: "TASK_KILLED" in scheduler.events.states(t), 15, message=f"{task_id} killed"
        )
    wait_until(lambda: not any(pid_alive(p) for p in pids), 10, message="the job processes to be gone")
    wait_until(lambda: not scheduler.running(), 10, message="no running task left")
    wait_until(lambda: not scheduler.zk_running(), 5, message="/state/running to be empty")
    assert not scheduler.registry.failover.entries()
    assert stays_true(lambda: len(scheduler.events.launched_of("long")) == 2, 2.0), (
        "relaunched after deregister"
    )


def test_running_state_node_of_a_deregistered_job_is_removed(scheduler) -> None:
    """``/state/running/{job}`` is kept "while the job exists" (mesos/running.py): not after."""
    scheduler.job("gone", cron=FAR_FUTURE)
    scheduler.lifecycle.trigger("gone")
    wait_until(lambda: scheduler.records("gone"), 20, message="the run")
    wait_until(lambda: not scheduler.running("gone"), 10, message="the run to end")
    scheduler.lifecycle.deregister_job("gone")
    wait_until(
        lambda: not scheduler.registry.tree.exists(paths.running_job("gone")),
        5,
        message="/state/running/gone to be removed with the job",
    )


def test_deleting_an_app_stops_its_executors(scheduler) -> None:
    scheduler.job("d", jobExecutionType="DAEMON", shardingTotalCount=2, cron="0/2 * * * * ?")
    wait_until(lambda: len({r.item for r in scheduler.records("d")}) == 2, 25, message="both shards running")
    wait_until(lambda: len(scheduler.executors_of(APP)) == 2, 10, message="an executor on each agent")
    assert len(scheduler.cluster.live_process_groups()) == 2
    pids = {r.pid for r in scheduler.records("d")}
    scheduler.settle()

    assert scheduler.lifecycle.delete_app(APP) == ["d"]

    wait_until(
        lambda: not scheduler.executors_of(APP), 15, message="the app's executors to be gone from Mesos"
    )
    wait_until(
        lambda: not scheduler.cluster.live_process_groups(), 15, message="the executor processes to exit"
    )
    wait_until(lambda: not any(pid_alive(p) for p in pids), 10, message="the job processes to be gone")
    wait_until(lambda: not scheduler.running(), 10, message="no running task left")
    wait_until(lambda: not scheduler.zk_running(), 5, message="/state/running to be empty")
    for task_id in scheduler.events.launched_of("d"):
        assert scheduler.events.states(task_id)[-1] in ("TASK_KILLED", "TASK_FINISHED"), task_id
    assert not scheduler.engine.executors.get(APP)


def test_job_registered_again_after_deregistration_runs(scheduler) -> None:
    scheduler.job("again", cron=FAR_FUTURE)
    scheduler.lifecycle.trigger("again")
    wait_until(lambda: scheduler.records("again"), 20, message="the first run")
    wait_until(lambda: not scheduler.running("again"), 10, message="the first run to end")
    scheduler.lifecycle.deregister_job("again")
    wait_until(lambda: "again" not in scheduler.engine.catalog.jobs, 5, message="the engine to forget it")

    scheduler.job("again", cron=FAR_FUTURE, jobParameter="second")
    scheduler.lifecycle.trigger("again")
    wait_until(lambda: len(scheduler.records("again")) == 2, 10, message="the run of the new registration")
    assert scheduler.records("again")[-1].job_parameter == "second"


def test_job_whose_running_node_was_removed_still_launches(scheduler) -> None:
    scheduler.job("cleaned", cron=FAR_FUTURE)
    scheduler.lifecycle.trigger("cleaned")
    wait_until(lambda: scheduler.records("cleaned"), 20, message="the first run")
    wait_until(lambda: not scheduler.running("cleaned"), 10, message="the first run to end")
    wait_until(lambda: not scheduler.zk_running(), 5, message="/state/running to be empty")
    scheduler.registry.tree.commit([Delete(paths.running_job("cleaned"))])  # an empty node, cleaned up

    scheduler.lifecycle.trigger("cleaned")
    wait_until(lambda: len(scheduler.records("cleaned")) == 2, 8, message="the second run")
