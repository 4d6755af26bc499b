"""End to end failure handling: agent removal and partition, stream drop, teardown, failover timeout,
master restart, ZooKeeper detection and 307 redirects, with real pymesos drivers and executors."""

from __future__ import annotations

import http.client
import json

from lmhelpers import (
    executor_info,
    launch_hanging,
    make_driver,
    reconcile,
    stays_false,
    task_info,
    wait_until,
)


def _run_hanging(cluster, driver, rec, agent_id=None):
    offer = launch_hanging(driver, rec, agent_id=agent_id, filters={"refuse_seconds": 0})
    settle(cluster)
    return offer


def settle(cluster):
    """Wait until every update is acknowledged: a fault injected while pymesos's implicit ACK is in
    flight makes that ACK fail, and an exception on pymesos's I/O thread aborts the driver."""
    wait_until(lambda: not cluster.pending_status_updates())


def _pid_of(cluster, executor_id):
    with cluster.master.lock:
        for agent in cluster.agents:
            for (_, eid), executor in agent.executors.items():
                if eid == executor_id:
                    return executor.pid
    return None


def test_agent_removal_rescinds_loses_tasks_and_kills_executors(make_cluster, drivers):
    cluster = make_cluster(agents=2)
    driver, rec = drivers(cluster.master_url)
    victim = cluster.agents[0].agent_id
    _run_hanging(cluster, driver, rec, agent_id=victim)
    pid = _pid_of(cluster, "e")
    outstanding = wait_until(lambda: [o for o in rec.offers if o.agent_id.value == victim])
    cluster.remove_agent(victim)
    wait_until(lambda: rec.states("h") == ["TASK_RUNNING", "TASK_LOST"])
    lost = rec.last("h")
    assert lost.reason == "REASON_SLAVE_REMOVED" and lost.source == "SOURCE_MASTER"
    assert [a.value for a in wait_until(lambda: rec.of("agent_lost"))] == [victim]
    rescinded = {o.value for o in wait_until(lambda: rec.of("rescind"))}
    assert {o.id.value for o in outstanding} <= rescinded
    assert pid is not None
    wait_until(lambda: pid not in cluster.live_process_groups())
    assert [a.agent_id for a in cluster.agents] != [] and victim not in [a.agent_id for a in cluster.agents]


def test_partition_aware_framework_sees_unreachable_then_running_after_heal(cluster, drivers):
    driver, rec = drivers(cluster.master_url, framework={"capabilities": [{"type": "PARTITION_AWARE"}]})
    offer = _run_hanging(cluster, driver, rec)
    agent_id = offer.agent_id.value
    cluster.partition_agent(agent_id)
    wait_until(lambda: rec.states("h") == ["TASK_RUNNING", "TASK_UNREACHABLE"])
    assert wait_until(lambda: rec.of("agent_lost"))
    assert rec.last("h").unreachable_time.nanoseconds > 0
    reconcile(driver, [("h", agent_id)])
    wait_until(lambda: len(rec.states("h")) == 3)
    assert rec.last("h").state == "TASK_UNREACHABLE"
    assert rec.last("h").unreachable_time.nanoseconds > 0
    # an unreachable task is no longer one of the master's tasks: asked without its agent, unknown
    driver.reconcileTasks([{"task_id": {"value": "h"}}])
    wait_until(lambda: len(rec.states("h")) == 4)
    assert rec.last("h").state == "TASK_UNKNOWN"
    cluster.heal_agent(agent_id)  # re-registration announces the task again (Master::__reregisterSlave)
    wait_until(lambda: len(rec.states("h")) == 5)
    assert rec.last("h").state == "TASK_RUNNING"
    assert rec.last("h").reason == "REASON_SLAVE_REREGISTERED"
    driver.killTask({"value": "h"})
    wait_until(lambda: rec.last("h").state == "TASK_KILLED")


def test_stream_drop_resubscribes_and_tasks_survive(cluster, drivers):
    driver, rec = drivers(cluster.master_url)
    fid = rec.framework_id
    _run_hanging(cluster, driver, rec)
    assert cluster.drop_scheduler_stream() == 1
    wait_until(lambda: rec.of("disconnected") and rec.of("reregistered"))
    assert rec.framework_id == fid and driver.framework_id == fid
    driver.killTask({"value": "h"})
    wait_until(lambda: rec.last("h").state == "TASK_KILLED")
    # over HTTP as well
    conn = http.client.HTTPConnection(cluster.master_url, timeout=5)
    conn.request("POST", "/faults/drop_scheduler_stream", body=json.dumps({"framework_id": fid}))
    response = conn.getresponse()
    assert response.status == 200 and json.loads(response.read()) == {"ok": True, "result": 1}
    wait_until(lambda: len(rec.of("reregistered")) == 2)


def test_teardown_shuts_down_executors_and_forgets_the_framework(cluster):
    driver, rec = make_driver(cluster.master_url)
    try:
        _run_hanging(cluster, driver, rec)
        pid = _pid_of(cluster, "e")
        fid = rec.framework_id
    finally:
        driver.stop()  # failover=False: TEARDOWN
        driver.join()
    wait_until(lambda: pid not in cluster.live_process_groups())
    with cluster.master.lock:
        assert fid not in cluster.master.frameworks
        assert [f.framework_id for f in cluster.master.completed_frameworks] == [fid]
    # a removed framework cannot come back
    again, rec2 = _subscribe_with_id(cluster, fid)
    try:
        assert wait_until(lambda: rec2.of("error"))[0] == "Framework has been removed"
        assert not rec2.of("registered")
    finally:
        again.stop(failover=True)
        again.join()


def _subscribe_with_id(cluster, fid):
    from lmhelpers import Recorder
    from pymesos import MesosSchedulerDriver

    rec = Recorder()
    info = {"user": "tester", "name": "again", "id": {"value": fid}, "failover_timeout": 10.0}
    driver = MesosSchedulerDriver(rec, info, cluster.master_url, use_addict=True, timeout=5)
    driver.start()
    return driver, rec


def test_failover_timeout_tears_down_a_framework_that_stays_away(cluster):
    driver, rec = make_driver(cluster.master_url, framework={"failover_timeout": 0.5})
    try:
        _run_hanging(cluster, driver, rec)
        pid = _pid_of(cluster, "e")
    finally:
        driver.stop(failover=True)
        driver.join()
    wait_until(lambda: not cluster.master.frameworks, timeout=10)
    wait_until(lambda: pid not in cluster.live_process_groups())


def test_resubscribe_inside_failover_timeout_keeps_tasks(cluster, drivers):
    driver, rec = make_driver(cluster.master_url, framework={"failover_timeout": 30.0})
    try:
        _run_hanging(cluster, driver, rec)
    finally:
        driver.stop(failover=True)
        driver.join()
    fid = rec.framework_id
    wait_until(lambda: not cluster.master.frameworks[fid].connected)
    again, rec2 = _subscribe_with_id(cluster, fid)
    try:
        wait_until(lambda: rec2.of("reregistered"))
        again.reconcileTasks([])
        wait_until(lambda: rec2.states("h") == ["TASK_RUNNING"])
    finally:
        again.stop(failover=True)
        again.join()


def test_master_restart_agents_reregister_and_scheduler_reconnects(cluster, drivers):
    driver, rec = drivers(cluster.master_url)
    _run_hanging(cluster, driver, rec)
    old = cluster.master.master_id
    assert cluster.restart_master() != old
    wait_until(lambda: rec.of("reregistered"))
    driver.reconcileTasks([])
    wait_until(lambda: rec.states("h") == ["TASK_RUNNING", "TASK_RUNNING"])
    driver.killTask({"value": "h"})
    wait_until(lambda: rec.last("h").state == "TASK_KILLED")


def test_zookeeper_master_detection_and_leader_change(make_cluster, drivers, zk_hosts):
    url = f"zk://{zk_hosts}/mesos"
    first = make_cluster(zk=url)
    driver, rec = drivers(url)
    assert driver.master == first.master_url
    second = make_cluster(zk=url)  # registers a higher sequence: a standby
    first.stop()  # its node goes: the scheduler moves to the second master
    wait_until(lambda: driver.master == second.master_url)
    wait_until(lambda: rec.of("reregistered"))
    assert second.master.frameworks[rec.framework_id].connected


def test_standby_master_redirects_with_307(make_cluster, drivers):
    leader = make_cluster()
    standby = make_cluster()
    standby.redirect(leader.master_url)
    driver, rec = drivers(standby.master_url)
    assert driver.master == leader.master_url and rec.framework_id in leader.master.frameworks


def test_suppress_revive_and_decline_filters(cluster, drivers):
    driver, rec = drivers(cluster.master_url)
    offer = rec.take_offer()
    driver.declineOffer(offer.id, filters={"refuse_seconds": 30})
    assert stays_false(lambda: rec.offers, 0.6)
    driver.reviveOffers()
    offer = rec.take_offer()
    driver.suppressOffers()
    driver.declineOffer(offer.id, filters={"refuse_seconds": 0})
    assert stays_false(lambda: rec.offers, 0.6)
    driver.reviveOffers()
    offer = rec.take_offer()
    # an offer ID is single-use: launching on it twice loses the second task
    driver.launchTasks(
        offer.id, [task_info("one", offer, executor=executor_info("e"), behaviour={"run": 0.1})]
    )
    driver.launchTasks(
        offer.id, [task_info("two", offer, executor=executor_info("e"), behaviour={"run": 0.1})]
    )
    wait_until(lambda: rec.states("two") == ["TASK_LOST"])
    assert rec.last("two").reason == "REASON_INVALID_OFFERS"
    wait_until(lambda: rec.states("one") == ["TASK_RUNNING", "TASK_FINISHED"])


def test_offer_timeout_rescinds(make_cluster, drivers):
    cluster = make_cluster(offer_timeout=0.3)
    _driver, rec = drivers(cluster.master_url)
    offer = rec.take_offer()
    assert wait_until(lambda: rec.of("rescind"))[0].value == offer.id.value


def test_maintenance_inverse_offers(cluster, drivers):
    driver, rec = drivers(cluster.master_url)
    offer = _run_hanging(cluster, driver, rec)
    cluster.start_maintenance(offer.agent_id.value)
    (inverse,) = wait_until(lambda: rec.of("inverse_offers"))[0]
    assert inverse.agent_id.value == offer.agent_id.value and inverse.unavailability.start.nanoseconds > 0
    cluster.end_maintenance(offer.agent_id.value)
    assert wait_until(lambda: rec.of("rescind_inverse_offer"))[0].value == inverse.id.value


def test_kill_executor_over_http_is_an_executor_crash(cluster, drivers):
    from lmhelpers import post

    driver, rec = drivers(cluster.master_url)
    _run_hanging(cluster, driver, rec)
    pid = _pid_of(cluster, "e")
    status, _, body = post(cluster.master_url, "/faults/kill_executor", {"executor_id": "e"})
    assert status == 200 and json.loads(body) == {"ok": True, "result": pid}
    wait_until(lambda: rec.states("h") == ["TASK_RUNNING", "TASK_FAILED"])
    failed = rec.last("h")
    assert (failed.reason, failed.source) == ("REASON_EXECUTOR_TERMINATED", "SOURCE_AGENT")
    assert failed.message == "Executor terminated: Command terminated with signal SIGKILL"
    executor_id, _agent_id, wait_status = wait_until(lambda: rec.of("executor_lost"))[0]
    assert executor_id.value == "e" and wait_status == 9  # killed by SIGKILL
    assert post(cluster.master_url, "/faults/kill_executor", {"executor_id": "e"})[0] == 404
    assert post(cluster.master_url, "/faults/remove_agent", {"agent_id": "nobody"})[0] == 404
    assert post(cluster.master_url, "/faults/remove_agent", {})[0] == 400
    assert post(cluster.master_url, "/faults/remove_agent", b"{bad")[0] == 400
    assert post(cluster.master_url, "/faults/nonsense", {})[0] == 404
