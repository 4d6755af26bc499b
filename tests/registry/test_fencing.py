"""Fencing: a leadership's writes hold only while its election node exists (real ZooKeeper).

The deposed leader of these tests has its session expired for real (a second client closes it), so
kazoo reconnects it with a new session by itself: exactly the state of a leader resumed after a
pause longer than its session timeout, before it has noticed. Every write it makes through its
fenced stores must be refused, while the same writes through unfenced stores still work.
"""

from __future__ import annotations

import pytest

from elasticjob_cloud.core import paths
from elasticjob_cloud.core.models import AppConfig, ExecutionType, JobConfig, JobType
from elasticjob_cloud.core.ports import FailoverEntry
from elasticjob_cloud.exceptions import Deposed
from elasticjob_cloud.registry import Registry
from elasticjob_cloud.registry.election import LeaderElection
from elasticjob_cloud.registry.fires import FireWrite
from elasticjob_cloud.registry.grouped import commit_groups
from elasticjob_cloud.registry.tree import Create, Delete
from elasticjob_cloud.registry.zookeeper import KazooTree, ZooKeeperConnection
from tests.registry.test_election import expire
from tests.support import wait_until

APP = AppConfig("app", "http://h/app.tar.gz", "bin/start.sh")
JOB = JobConfig("job", "app", JobType.SIMPLE, ExecutionType.TRANSIENT, "0/1 * * * * ?", 2, 0.5, 64.0, "a.B")


@pytest.fixture
def leader(zk_hosts):
    connection = ZooKeeperConnection(zk_hosts, "elastic-job-cloud", session_timeout=4.0).start()
    elected: list[str] = []
    election = LeaderElection(connection, "me:1", lambda: elected.append("e"), lambda: elected.append("r"))
    election.start()
    wait_until(lambda: elected == ["e"], 10, message="the candidate to be elected")
    registry = Registry.over(KazooTree(connection))
    registry.config.add_app(APP)
    registry.config.add_job(JOB)
    yield election, registry, registry.fenced(election.candidate_path)
    election.stop()
    connection.stop()


def test_a_leaders_writes_hold_while_it_leads(leader):
    _, registry, fenced = leader
    assert fenced.ready.trigger("job", lambda j: True) == 1
    version = registry.config.get_jobs_versioned(["job"])["job"][1]
    [result] = fenced.fires.write([FireWrite("job", version, 1_700_000_000.0, -1, 1, True)])
    assert result.error is None and registry.ready.counts() == {"job": 2}


def test_a_deposed_leader_writes_nothing(leader):
    election, registry, fenced = leader
    node = election.candidate_path
    expire(election)
    wait_until(lambda: registry.tree.connection.client.connected, 10, message="kazoo to reconnect")
    assert not registry.tree.exists(node)  # the ephemeral node went with the old session
    version = registry.config.get_jobs_versioned(["job"])["job"][1]
    with pytest.raises(Deposed, match="leadership lost"):
        fenced.ready.trigger("job", lambda j: True)
    [fire] = fenced.fires.write([FireWrite("job", version, 1_700_000_000.0, -1, 1, True)])
    assert isinstance(fire.error, Deposed)
    with pytest.raises(Deposed):
        fenced.failover.add(FailoverEntry("job", 0, "job@-@0@-@READY@-@S0@-@u"))
    launch = commit_groups(
        fenced.tree, [[Create(paths.running_task("job", 0), b"t")], [Create(paths.ready("x"))]]
    )
    assert all(isinstance(error, Deposed) for error in launch)
    assert registry.ready.counts() == {} and registry.failover.entries() == []
    assert registry.running.entries() == [] and registry.fires.last_fires(["job"]) == {"job": None}
    assert (
        registry.ready.trigger("job", lambda j: True) == 1
    )  # the session itself works: only the fence refuses


def test_memory_twin_fences_the_same_way():
    registry = Registry.in_memory()
    registry.tree.ensure(paths.ELECTION)
    registry.tree.commit([Create(f"{paths.ELECTION}/candidate-a-0000000001", b"me")])
    fenced = registry.fenced(f"{paths.ELECTION}/candidate-a-0000000001")
    registry.config.add_app(APP)
    registry.config.add_job(JOB)
    assert fenced.ready.trigger("job", lambda j: False) == 1
    registry.tree.commit([Delete(f"{paths.ELECTION}/candidate-a-0000000001")])
    with pytest.raises(Deposed):
        fenced.ready.trigger("job", lambda j: True)
    assert registry.ready.counts() == {"job": 1}
