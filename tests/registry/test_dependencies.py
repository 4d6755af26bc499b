"""Dependencies in the registry (issue #17), on the in-memory twin and on a real ZooKeeper:
registration refuses unknown upstreams and cycles, deregistration refuses or cascades, and
``complete_run`` turns a completed upstream run into downstream runs in one guarded transaction."""

import json

import pytest

from elasticjob_cloud.core import paths
from elasticjob_cloud.core.ports import FailoverEntry, RunningEntry
from elasticjob_cloud.exceptions import Conflict, InconsistentChange, UnknownReference
from elasticjob_cloud.lifecycle import Lifecycle
from elasticjob_cloud.registry.tree import SetData
from tests.support import FOO_APP, record_running

APP = FOO_APP["appName"]


def body(name, *upstreams, shards=1, **more):
    job = {
        "jobName": name,
        "appName": APP,
        "jobClass": "x.Job",
        "jobType": "SIMPLE",
        "jobExecutionType": "TRANSIENT",
        "shardingTotalCount": shards,
        "cpuCount": 1,
        "memoryMB": 64,
        "misfire": True,
    }
    if upstreams:
        job["dependsOn"] = list(upstreams)
    else:
        job["cron"] = "0 0 0 1 1 ? 2099"
    return {**job, **more}


@pytest.fixture
def chain(registry):
    """a → b → c (b depends on a, c on b)."""
    life = Lifecycle(registry)
    life.register_app(FOO_APP)
    life.register_job(body("a", shards=2))
    life.register_job(body("b", "a"))
    life.register_job(body("c", "b"))
    return life


def outcome(registry, job, item, ok, at, run="r1"):
    """As the engine writes it: a create, or the shard's earlier outcome overwritten."""
    task_id = f"{job}@-@{item}@-@READY@-@S0@-@{run}-{item}"
    op = registry.dependencies.outcome_op(task_id, item, ok, at)
    if registry.tree.get(op.path) is None:
        registry.tree.commit([op])
    else:
        registry.tree.commit([SetData(op.path, op.data)])


def edge(registry, job, upstream):
    return registry.dependencies.edges_of(job)["edges"][upstream]["state"]


def test_registration_refuses_an_unknown_upstream_and_a_daemon_upstream(registry):
    life = Lifecycle(registry)
    life.register_app(FOO_APP)
    with pytest.raises(UnknownReference) as caught:  # 404 naming the field, as an unknown appName
        life.register_job(body("b", "nobody"))
    assert "nobody" in caught.value.errors["dependsOn"][0]
    life.register_job(body("d", jobExecutionType="DAEMON"))
    with pytest.raises(InconsistentChange, match="DAEMON"):
        life.register_job(body("b", "d"))
    with pytest.raises(InconsistentChange, match="b → b"):
        life.register_job(body("b", "b"))
    assert registry.config.get_job("b") is None


def test_an_update_that_closes_a_cycle_is_refused_naming_it(chain, registry):
    with pytest.raises(InconsistentChange) as caught:  # 409: it depends on what is stored
        chain.update_job({"jobName": "a", "dependsOn": ["c"]})
    assert "a → c → b → a" in caught.value.errors["dependsOn"][0]
    assert registry.config.get_job("a").policy.depends_on == ()
    chain.update_job({"jobName": "c", "dependsOn": ["a", "b"]})  # a diamond is no cycle
    assert registry.config.get_job("c").policy.depends_on == ("a", "b")
    assert set(registry.dependencies.edges_of("c")["edges"]) == {"a", "b"}


def test_an_upstream_cannot_become_a_daemon_job(chain, registry):
    with pytest.raises(InconsistentChange, match="b depend on it"):
        chain.update_job({"jobName": "a", "jobExecutionType": "DAEMON"})
    assert registry.config.get_job("a").is_transient
    update = {"jobName": "c", "jobExecutionType": "DAEMON", "dependsOn": [], "cron": "0 * * * * ?"}
    chain.update_job(update)  # nothing needs c; without upstreams it needs a cron of its own
    assert registry.config.get_job("c").is_daemon


def test_deregistering_an_upstream_is_refused_or_cascades_to_its_dependents(chain, registry):
    with pytest.raises(Conflict) as caught:
        chain.deregister_job("a")
    assert "b, c" in caught.value.message
    assert registry.config.get_job("a") is not None
    assert chain.deregister_jobs("b", cascade=True) == ["b", "c"]
    assert registry.config.get_job("b") is None and registry.config.get_job("c") is None
    assert registry.dependencies.edges_of("b") == {} and registry.dependencies.edges_of("c") == {}
    assert chain.deregister_job("a") is True  # nothing depends on it any more
    assert registry.tree.children(paths.RUN_OUTCOMES) == []


def test_deleting_an_app_whose_jobs_others_depend_on_is_refused(chain, registry):
    chain.register_app({**FOO_APP, "appName": "other"})
    chain.register_job({**body("z", "c"), "appName": "other"})
    with pytest.raises(Conflict, match="z"):
        chain.delete_app(APP)
    assert registry.config.get_job("a") is not None


def test_a_completed_successful_run_queues_the_downstream_once(chain, registry):
    outcome(registry, "a", 0, True, 10.0)
    outcome(registry, "a", 1, True, 11.0)
    done = registry.dependencies.complete_run("a", ["b"], 12.0)
    assert done.succeeded is True and done.queued == ("b",)
    assert registry.ready.counts() == {"b": 1}
    assert edge(registry, "b", "a") == "WAITING"  # consumed by the queued run
    assert registry.dependencies.edges_of("b")["queued"] == 1
    again = registry.dependencies.complete_run("a", ["b"], 13.0)
    assert again.succeeded is None and registry.ready.counts() == {"b": 1}  # the run was consumed


def test_a_failed_shard_stops_an_all_succeeded_downstream_but_not_an_all_done_one(chain, registry):
    chain.register_job(body("done", "a", dependencyPolicy="ALL_DONE"))
    outcome(registry, "a", 0, True, 10.0)
    outcome(registry, "a", 1, False, 11.0)
    done = registry.dependencies.complete_run("a", ["b", "done"], 12.0)
    assert done.succeeded is False and done.queued == ("done",)
    assert registry.ready.counts() == {"done": 1}
    assert edge(registry, "b", "a") == "FAILED"


def test_a_run_with_a_shard_still_running_or_queued_to_run_again_is_not_complete(chain, registry):
    outcome(registry, "a", 0, True, 10.0)
    record_running(registry, RunningEntry("a", 1, "a@-@1@-@READY@-@S0@-@x"))
    assert registry.dependencies.complete_run("a", ["b"], 12.0).succeeded is None
    writes = registry.ledger.writes()
    writes.finish_task("a", 1)
    writes.flush()
    registry.failover.add(FailoverEntry("a", 1, "a@-@1@-@READY@-@S0@-@x", 2, 20.0))
    assert registry.dependencies.complete_run("a", ["b"], 12.0).succeeded is None
    assert registry.ready.counts() == {}
    assert registry.failover.withdraw("a", 1, "a@-@1@-@READY@-@S0@-@x")
    outcome(registry, "a", 1, True, 21.0)
    assert registry.dependencies.complete_run("a", ["b"], 22.0).queued == ("b",)


def test_a_downstream_with_two_upstreams_waits_for_both(chain, registry):
    chain.register_job(body("x"))
    chain.update_job({"jobName": "c", "dependsOn": ["b", "x"]})
    outcome(registry, "b", 0, True, 10.0)
    assert registry.dependencies.complete_run("b", ["c"], 11.0).queued == ()
    assert edge(registry, "c", "b") == "SATISFIED" and edge(registry, "c", "x") == "WAITING"
    outcome(registry, "x", 0, True, 12.0)
    assert registry.dependencies.complete_run("x", ["c"], 13.0).queued == ("c",)
    assert registry.ready.counts() == {"c": 1}


def test_a_disabled_downstream_gets_no_run(chain, registry):
    chain.disable_job("b")
    outcome(registry, "a", 0, True, 10.0)
    outcome(registry, "a", 1, True, 10.0)
    assert registry.dependencies.complete_run("a", ["b"], 11.0).queued == ()
    assert registry.ready.counts() == {}


def test_the_stored_records_are_json_the_original_can_ignore(chain, registry):
    stored = json.loads(registry.tree.get(paths.job("b"))[0])
    assert stored["dependsOn"] == ["a"] and stored["cron"] == "0 0 0 1 1 ? 2099"
    assert json.loads(registry.tree.get(paths.dependency_edges("b"))[0]) == {
        "edges": {"a": {"state": "WAITING"}}
    }
