"""Fidelity to Apache Mesos where schedulers can go wrong: reconciliation by agent state (registered,
recovered from the registry, unreachable, gone, unknown), agent loss, kills on disconnected agents,
ExecutorInfo consistency. Each test names the Mesos source or test it follows (README, "Local Mesos
fidelity"); real pymesos drivers and sample executors throughout."""

from __future__ import annotations

from lmhelpers import (
    executor_info,
    kill,
    launch_hanging,
    reconcile,
    stays_false,
    task_info,
    wait_until,
)

AWARE = {"capabilities": [{"type": "PARTITION_AWARE"}]}


def _settle(cluster):
    wait_until(lambda: not cluster.pending_status_updates())


def _answers(rec, task_id):
    return [u for u in rec.updates if u.task_id.value == task_id]


def test_recovered_agent_answers_nothing_until_reregister_timeout_then_unreachable(make_cluster, drivers):
    """ReconciliationTest.RecoveredAgent, MasterTest.UnreachableTaskAfterFailover (master.cpp
    ``Master::reconcile`` case 2, ``_agentReregisterTimeout``): with the persistent registry, a task on
    an agent that has not re-registered since the failover gets no answer; after
    agent_reregister_timeout the framework gets slaveLost and no task update; a new explicit
    reconciliation answers TASK_UNREACHABLE with unreachable_time; the agent's return re-announces it."""
    cluster = make_cluster(agents=2, registry="replicated_log", agent_reregister_timeout=2.0)
    driver, rec = drivers(cluster.master_url, framework=AWARE)
    away, other = cluster.agents[0].agent_id, cluster.agents[1].agent_id
    launch_hanging(driver, rec, agent_id=away)
    _settle(cluster)
    cluster.restart_master(keep_away=away)
    wait_until(lambda: len(rec.of("reregistered")) + len(rec.of("registered")) >= 2)
    reconcile(driver, [("h", away), ("x", other)])
    assert wait_until(lambda: _answers(rec, "x"))[0].state == "TASK_GONE"
    assert rec.states("h") == ["TASK_RUNNING"]  # asked before "x", not answered
    reconcile(driver, [("y", None)])  # no agent given while an agent is recovered: no answer either
    lost = wait_until(lambda: rec.of("agent_lost"), 10)
    assert [a.value for a in lost] == [away]
    assert rec.states("h") == ["TASK_RUNNING"] and not _answers(rec, "y")  # slaveLost only
    reconcile(driver, [("h", away)])
    answer = wait_until(lambda: _answers(rec, "h")[1:])[0]
    assert answer.state == "TASK_UNREACHABLE" and answer.reason == "REASON_RECONCILIATION"
    assert answer.unreachable_time.nanoseconds > 0
    cluster.heal_agent(away)
    back = wait_until(lambda: _answers(rec, "h")[2:])[0]
    assert back.state == "TASK_RUNNING" and back.reason == "REASON_SLAVE_REREGISTERED"


def test_registry_file_outlives_the_process(make_cluster, drivers, tmp_path):
    """``--registry=replicated_log``: a master started again on the same work dir recovers the agents
    of the previous one, which never return here; ``in_memory`` forgets them (TASK_UNKNOWN)."""
    work = tmp_path / "persistent"
    first = make_cluster(work_dir=work, registry="replicated_log")
    old_agent = first.agents[0].agent_id
    first.stop()
    second = make_cluster(work_dir=work, registry="replicated_log", agent_reregister_timeout=1.0)
    driver, rec = drivers(second.master_url, framework=AWARE)
    new_agent = second.agents[0].agent_id
    reconcile(driver, [("old", old_agent), ("new", new_agent)])
    wait_until(lambda: _answers(rec, "new"))
    assert not _answers(rec, "old")
    assert [a.value for a in wait_until(lambda: rec.of("agent_lost"), 10)] == [old_agent]
    reconcile(driver, [("old", old_agent)])
    assert wait_until(lambda: _answers(rec, "old"))[0].state == "TASK_UNREACHABLE"

    third = make_cluster(work_dir=tmp_path / "volatile")
    third_agent = third.agents[0].agent_id
    third.stop()
    fourth = make_cluster(work_dir=tmp_path / "volatile")
    driver4, rec4 = drivers(fourth.master_url, framework=AWARE)
    reconcile(driver4, [("old", third_agent)])
    assert wait_until(lambda: _answers(rec4, "old"))[0].state == "TASK_UNKNOWN"


def test_in_memory_restart_forgets_agents_that_stay_away(make_cluster, drivers):
    """ReconciliationTest.UnknownSlave / UnknownTaskPartitionAware (case 6): without a registry a
    restarted master does not know an agent that has not come back: TASK_UNKNOWN at once (TASK_LOST
    for a framework that is not partition-aware)."""
    cluster = make_cluster()
    driver, rec = drivers(cluster.master_url, framework=AWARE)
    plain, plain_rec = drivers(cluster.master_url)
    agent = cluster.agents[0].agent_id
    launch_hanging(driver, rec, agent_id=agent)
    _settle(cluster)
    cluster.restart_master(keep_away="*")
    wait_until(lambda: rec.of("reregistered") or len(rec.of("registered")) > 1)
    wait_until(lambda: plain_rec.of("reregistered") or len(plain_rec.of("registered")) > 1)
    reconcile(driver, [("h", agent)])
    answer = wait_until(lambda: _answers(rec, "h")[1:])[0]
    assert (answer.state, answer.message) == ("TASK_UNKNOWN", "Reconciliation: Task is unknown")
    reconcile(plain, [("p", agent)])
    assert wait_until(lambda: _answers(plain_rec, "p"))[0].state == "TASK_LOST"
    cluster.heal_agent(agent)
    back = wait_until(lambda: _answers(rec, "h")[2:])[0]
    assert back.state == "TASK_RUNNING" and back.message == "Unknown agent reregistered"


def test_registry_gc_forgets_long_unreachable_agents(make_cluster, drivers):
    """``Master::doRegistryGc`` (registry_max_agent_age; PartitionTest.RegistryGcByAge): a task of
    an agent unreachable for longer is TASK_UNKNOWN, no longer TASK_UNREACHABLE."""
    cluster = make_cluster(registry_gc_interval=0.2, registry_max_agent_age=1.0)
    driver, rec = drivers(cluster.master_url, framework=AWARE)
    agent = cluster.agents[0].agent_id
    launch_hanging(driver, rec, agent_id=agent)
    _settle(cluster)
    cluster.partition_agent(agent)
    wait_until(lambda: rec.states("h") == ["TASK_RUNNING", "TASK_UNREACHABLE"])
    reconcile(driver, [("h", agent)])
    assert wait_until(lambda: _answers(rec, "h")[2:])[0].state == "TASK_UNREACHABLE"
    with cluster.master.lock:
        assert agent in cluster.master.unreachable
    wait_until(lambda: agent not in cluster.master.unreachable, 10)
    reconcile(driver, [("h", agent)])
    assert wait_until(lambda: _answers(rec, "h")[3:])[0].state == "TASK_UNKNOWN"


def test_removed_agent_loses_tasks_even_for_partition_aware(make_cluster, drivers):
    """master.cpp ``Master::_removeSlave``: TASK_LOST, REASON_SLAVE_REMOVED, whatever the
    framework's capabilities; the agent leaves the registry (later: TASK_UNKNOWN)."""
    cluster = make_cluster()
    driver, rec = drivers(cluster.master_url, framework=AWARE)
    agent = cluster.agents[0].agent_id
    launch_hanging(driver, rec, agent_id=agent)
    _settle(cluster)
    cluster.remove_agent(agent)
    lost = wait_until(lambda: _answers(rec, "h")[1:])[0]
    assert (lost.state, lost.reason) == ("TASK_LOST", "REASON_SLAVE_REMOVED")
    reconcile(driver, [("h", agent)])
    assert wait_until(lambda: _answers(rec, "h")[2:])[0].state == "TASK_UNKNOWN"


def test_operator_marks_agent_gone(make_cluster, drivers):
    """master.cpp ``Master::markGone`` / ``__removeSlave``: TASK_GONE_BY_OPERATOR with
    REASON_SLAVE_REMOVED_BY_OPERATOR; reconciliation then answers TASK_GONE_BY_OPERATOR (case 5)."""
    cluster = make_cluster(agents=2)
    driver, rec = drivers(cluster.master_url, framework=AWARE)
    agent = cluster.agents[0].agent_id
    launch_hanging(driver, rec, agent_id=agent)
    _settle(cluster)
    cluster.mark_gone(agent)
    gone = wait_until(lambda: _answers(rec, "h")[1:])[0]
    assert (gone.state, gone.reason) == ("TASK_GONE_BY_OPERATOR", "REASON_SLAVE_REMOVED_BY_OPERATOR")
    assert [a.value for a in wait_until(lambda: rec.of("agent_lost"))] == [agent]
    reconcile(driver, [("h", agent)])
    answer = wait_until(lambda: _answers(rec, "h")[2:])[0]
    assert (answer.state, answer.message) == ("TASK_GONE_BY_OPERATOR", "Reconciliation: Task is gone")


def test_reconciliation_answers_the_oldest_unacknowledged_state(cluster, drivers):
    """ReconciliationTest.ReconcileStatusUpdateTaskState (``Task.status_update_state``): while
    TASK_RUNNING is unacknowledged, a task that has since finished is reported TASK_RUNNING."""
    driver, rec = drivers(cluster.master_url, framework=AWARE, implicit_acknowledgements=False)
    offer = rec.take_offer()
    task = task_info("t", offer, executor=executor_info("e"), behaviour={"run": 0.2})
    driver.launchTasks(offer.id, [task])
    wait_until(lambda: rec.states("t") == ["TASK_RUNNING"])

    def finished_on_agent():
        with cluster.master.lock:
            return [s for s in cluster.pending_status_updates() if s["state"] == "TASK_FINISHED"]

    wait_until(finished_on_agent)
    reconcile(driver, [("t", offer.agent_id.value)])
    driver.reconcileTasks([])
    wait_until(lambda: len(rec.states("t")) == 3)
    assert rec.states("t") == ["TASK_RUNNING", "TASK_RUNNING", "TASK_RUNNING"]
    driver.acknowledgeStatusUpdate(rec.updates[0])
    assert wait_until(lambda: _answers(rec, "t")[3:])[0].state == "TASK_FINISHED"


def test_implicit_reconciliation_leaves_out_unreachable_tasks(make_cluster, drivers):
    """master.cpp ``Master::reconcile``, implicit: ``framework->tasks`` only."""
    cluster = make_cluster(agents=2)
    driver, rec = drivers(cluster.master_url, framework=AWARE)
    cut, kept = cluster.agents[0].agent_id, cluster.agents[1].agent_id
    launch_hanging(driver, rec, task_id="u", executor_id="e1", agent_id=cut)
    launch_hanging(driver, rec, task_id="k", executor_id="e2", agent_id=kept)
    _settle(cluster)
    cluster.partition_agent(cut)
    wait_until(lambda: rec.states("u") == ["TASK_RUNNING", "TASK_UNREACHABLE"])
    driver.reconcileTasks([])
    wait_until(lambda: len(rec.states("k")) == 2)
    assert rec.states("u") == ["TASK_RUNNING", "TASK_UNREACHABLE"]


def test_kill_on_disconnected_agent_is_remembered_and_wrong_agent_ignored(make_cluster, drivers):
    """master.cpp ``Master::kill``: a KILL naming another agent than the task's does nothing; one for
    a task on a disconnected agent is applied when the agent re-registers (``killedTasks``); an agent
    that stays away agent_reregister_timeout is marked unreachable (``Master::exited``)."""
    cluster = make_cluster(agents=2, agent_reregister_timeout=30.0)
    driver, rec = drivers(cluster.master_url, framework=AWARE)
    agent, other = cluster.agents[0].agent_id, cluster.agents[1].agent_id
    launch_hanging(driver, rec, agent_id=agent)
    _settle(cluster)
    kill(driver, "h", other)
    reconcile(driver, [("h", agent)])  # answered after the KILL was handled
    wait_until(lambda: len(rec.states("h")) == 2)
    assert rec.states("h") == ["TASK_RUNNING", "TASK_RUNNING"]
    cluster.disconnect_agent(agent)
    kill(driver, "h", agent)
    reconcile(driver, [("h", agent)])
    wait_until(lambda: len(rec.states("h")) == 3)
    assert rec.states("h")[-1] == "TASK_RUNNING"
    cluster.heal_agent(agent)
    wait_until(lambda: rec.last("h").state == "TASK_KILLED")

    short = make_cluster(agent_reregister_timeout=0.5)
    driver2, rec2 = drivers(short.master_url, framework=AWARE)
    launch_hanging(driver2, rec2)
    _settle(short)
    short.disconnect_agent(short.agents[0].agent_id)
    assert stays_false(lambda: rec2.states("h")[1:], 0.2)
    unreachable = wait_until(lambda: rec2.states("h")[1:], 10)
    assert unreachable == ["TASK_UNREACHABLE"]


def test_a_changed_executor_info_under_the_same_id_is_refused(cluster, drivers):
    """validation.cpp ``validateCompatibleExecutorInfo``: TASK_ERROR "ExecutorInfo is not compatible
    with existing ExecutorInfo with same ExecutorID"; the same ExecutorInfo again is accepted."""
    driver, rec = drivers(cluster.master_url, framework=AWARE)
    offer = launch_hanging(driver, rec, filters={"refuse_seconds": 0})
    offer = rec.take_offer(offer.agent_id.value)
    changed = executor_info("e")
    changed["command"] = {"value": changed["command"]["value"] + " --v2"}
    same = task_info("same", offer, executor=executor_info("e"), behaviour={"hang": True}, cpus=0.1)
    other = task_info("other", offer, executor=changed, behaviour={"hang": True}, cpus=0.1)
    driver.launchTasks(offer.id, [same, other])
    error = wait_until(lambda: rec.last("other"))
    assert (error.state, error.reason) == ("TASK_ERROR", "REASON_TASK_INVALID")
    assert error.message.startswith(
        "ExecutorInfo is not compatible with existing ExecutorInfo with same ExecutorID."
    )
    wait_until(lambda: rec.states("same") == ["TASK_RUNNING"])


def test_a_crashed_agent_is_disconnected_then_unreachable_and_its_tasks_die(make_cluster, drivers):
    """``crash_agent``: the machine dies. Its task's process dies with it and no update of it arrives;
    the master sees the connection go (``Master::exited``) and, after agent_reregister_timeout, marks
    the agent unreachable: TASK_UNREACHABLE with unreachable_time, then slaveLost."""
    cluster = make_cluster(agents=2, agent_reregister_timeout=1.0)
    driver, rec = drivers(cluster.master_url, framework=AWARE)
    doomed = cluster.agents[0].agent_id
    launch_hanging(driver, rec, agent_id=doomed)
    _settle(cluster)
    cluster.crash_agent(doomed)
    assert doomed not in {a.agent_id for a in cluster.agents}
    assert stays_false(lambda: rec.states("h")[1:], 0.5)  # disconnected: nothing said yet
    answer = wait_until(lambda: _answers(rec, "h")[1:], 10)[0]
    assert answer.state == "TASK_UNREACHABLE" and answer.unreachable_time.nanoseconds > 0
    assert [a.value for a in wait_until(lambda: rec.of("agent_lost"), 10)] == [doomed]
    wait_until(lambda: not cluster.live_process_groups(), 10)  # its executor died with it
