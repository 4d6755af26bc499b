"""End to end: the real pymesos scheduler driver, a real pymesos executor subprocess, the local Mesos."""

from __future__ import annotations

import json
import os
from pathlib import Path

from lmhelpers import decode, executor_info, launch_hanging, offer_scalar, stays_false, task_info, wait_until


def test_subscribe_receives_offers_with_agent_resources(make_cluster, drivers):
    cluster = make_cluster(agents=2, attributes="rack:r1;level:3")
    _driver, rec = drivers(cluster.master_url)
    agent_ids = {a.agent_id for a in cluster.agents}
    wait_until(lambda: {o.agent_id.value for o in rec.offers} == agent_ids)
    offer = rec.take_offer()
    assert offer_scalar(offer, "cpus") == 4.0 and offer_scalar(offer, "mem") == 4096.0
    ports = next(r for r in offer.resources if r.name == "ports")
    assert ports.ranges.range == [{"begin": 31000, "end": 32000}]
    assert {a.name: a.get("text", a.get("scalar")) for a in offer.attributes} == {
        "rack": {"value": "r1"},
        "level": {"value": 3.0},
    }
    assert offer.framework_id.value == rec.framework_id and offer.executor_ids == []
    assert rec.of("registered")[0].value == rec.framework_id


def test_custom_executor_runs_tasks_reuses_executor_and_charges_it_once(cluster, drivers):
    driver, rec = drivers(cluster.master_url)
    offer = rec.take_offer()
    executor = executor_info("app@-@x", cpus=0.25, mem=100)
    tasks = [task_info(f"t{i}", offer, executor=executor, behaviour={"run": 0.3}) for i in range(2)]
    driver.launchTasks(offer.id, tasks)
    for t in ("t0", "t1"):
        wait_until(lambda t=t: rec.states(t) == ["TASK_RUNNING", "TASK_FINISHED"])
    first = rec.last("t0")
    assert first.agent_id.value == offer.agent_id.value and first.executor_id.value == "app@-@x"
    assert first.source == "SOURCE_EXECUTOR" and first.uuid
    pid = json.loads(decode(first.data))["pid"]
    assert json.loads(decode(rec.last("t1").data))["pid"] == pid

    # the executor stays (charged once): used = its resources only; the next offer names it
    used = wait_until(lambda: _used(cluster, cpus=0.25, mem=100.0))
    assert used["cpus"] == 0.25
    driver.reviveOffers()
    offer2 = wait_until(lambda: [o for o in rec.offers if o.executor_ids])[-1]
    assert [e.value for e in offer2.executor_ids] == ["app@-@x"]
    driver.launchTasks(offer2.id, [task_info("t2", offer2, executor=executor, behaviour={"hang": True})])
    wait_until(lambda: rec.states("t2") == ["TASK_RUNNING"])
    assert json.loads(decode(rec.last("t2").data))["pid"] == pid
    wait_until(lambda: _used(cluster, cpus=0.75, mem=164.0))

    # sandbox layout, stdout/stderr, environment
    agent = cluster.agents[0]
    runs = Path(
        cluster.work_dir,
        "slaves",
        agent.agent_id,
        "frameworks",
        rec.framework_id,
        "executors",
        "app@-@x",
        "runs",
    )
    (sandbox,) = [p for p in runs.iterdir() if p.name != "latest"]
    assert (runs / "latest").resolve() == sandbox.resolve()
    assert (sandbox / "stdout").exists() and (sandbox / "stderr").exists()
    env = json.loads((sandbox / "env.json").read_text())
    assert env["MESOS_FRAMEWORK_ID"] == rec.framework_id
    assert env["MESOS_EXECUTOR_ID"] == "app@-@x"
    assert env["MESOS_SLAVE_ID"] == agent.agent_id
    assert env["MESOS_AGENT_ENDPOINT"] == agent.url
    assert env["MESOS_DIRECTORY"] == env["MESOS_SANDBOX"] == str(sandbox)
    assert env["MESOS_CHECKPOINT"] == "0"
    assert env["MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD"] == "1.0secs"
    # its own session, whose process group the cluster tracks (and kills on stop)
    assert os.getsid(pid) != os.getsid(0) and os.getpgid(pid) in cluster.spawned_pids


def test_kill_known_and_unknown_tasks(cluster, drivers):
    driver, rec = drivers(cluster.master_url)
    launch_hanging(driver, rec, "hang")
    driver.killTask({"value": "hang"})
    wait_until(lambda: rec.states("hang") == ["TASK_RUNNING", "TASK_KILLED"])
    driver.killTask({"value": "nope"})
    lost = wait_until(lambda: rec.last("nope"))
    assert lost.state == "TASK_LOST" and "uuid" not in lost and lost.source == "SOURCE_MASTER"


def test_reconcile_implicit_and_explicit(cluster, drivers):
    driver, rec = drivers(cluster.master_url)
    offer = launch_hanging(driver, rec, "r")
    driver.reconcileTasks([])
    wait_until(lambda: len(rec.states("r")) == 2)
    update = rec.last("r")
    assert (
        update.state == "TASK_RUNNING" and update.reason == "REASON_RECONCILIATION" and "uuid" not in update
    )
    assert update.agent_id.value == offer.agent_id.value and update.executor_id.value == "e"
    driver.reconcileTasks([{"task_id": {"value": "r"}}, {"task_id": {"value": "ghost"}}])
    wait_until(lambda: len(rec.states("r")) == 3 and rec.last("ghost"))
    assert rec.last("ghost").state == "TASK_LOST" and rec.last("ghost").reason == "REASON_RECONCILIATION"


def test_framework_messages_both_ways(cluster, drivers):
    driver, rec = drivers(cluster.master_url)
    offer = launch_hanging(driver, rec, "m")
    from pymesos import encode_data

    driver.sendFrameworkMessage({"value": "e"}, offer.agent_id, encode_data(b"hello"))
    executor_id, agent_id, data = wait_until(lambda: rec.of("message"))[0]
    assert (
        decode(data) == "echo:hello" and executor_id.value == "e" and agent_id.value == offer.agent_id.value
    )


def test_executor_crash_fails_tasks_and_reports_executor_lost(cluster, drivers):
    driver, rec = drivers(cluster.master_url)
    offer = rec.take_offer()
    driver.launchTasks(offer.id, [task_info("c", offer, executor=executor_info("e"), behaviour={"crash": 3})])
    wait_until(lambda: rec.states("c") == ["TASK_RUNNING", "TASK_FAILED"])
    assert rec.last("c").reason == "REASON_EXECUTOR_TERMINATED" and rec.last("c").source == "SOURCE_AGENT"
    executor_id, _agent_id, status = wait_until(lambda: rec.of("executor_lost"))[0]
    assert executor_id.value == "e" and status == 3 << 8
    assert wait_until(lambda: _used(cluster, cpus=0.0, mem=0.0))  # executor and task resources are back


def test_status_updates_are_retried_until_acknowledged(cluster, drivers):
    driver, rec = drivers(cluster.master_url, implicit_acknowledgements=False)
    offer = rec.take_offer()
    driver.launchTasks(offer.id, [task_info("a", offer, executor=executor_info("e"), behaviour={"run": 0.1})])
    wait_until(lambda: len(rec.states("a")) >= 3, timeout=10)
    # the same RUNNING update again and again (one outstanding per task); FINISHED waits for the ack
    states = rec.states("a")
    assert set(states) == {"TASK_RUNNING"}
    with rec.lock:
        uuids = {u.uuid for u in rec.updates if u.task_id.value == "a"}
    assert len(uuids) == 1
    driver.acknowledgeStatusUpdate(rec.last("a"))
    wait_until(lambda: rec.states("a")[-1] == "TASK_FINISHED")
    finished = rec.last("a")
    driver.acknowledgeStatusUpdate(finished)
    count = len(rec.states("a"))
    assert stays_false(lambda: len(rec.states("a")) > count, 1.2)


def _used(cluster, **expected):
    with cluster.master.lock:
        used = cluster.master.used_on(cluster.agents[0].agent_id).to_state()
    return used if all(used[k] == v for k, v in expected.items()) else None
