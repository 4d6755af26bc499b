"""Leader election on a real ZooKeeper: one leader, takeover on stop and on session expiry, and
callbacks that alternate on one thread whatever they do."""

from __future__ import annotations

import threading

import pytest
from kazoo.client import KazooClient
from kazoo.protocol.connection import _CONNECTION_DROP
from kazoo.protocol.states import KazooState

from elasticjob_cloud.core import paths
from elasticjob_cloud.registry.election import LeaderElection, sorted_candidates
from elasticjob_cloud.registry.zookeeper import ZooKeeperConnection
from tests.support import wait_until


class Calls:
    """Records callbacks; checks they alternate, never overlap, and run on the election thread."""

    def __init__(self, fail_elected: bool = False, fail_revoked: bool = False):
        self.events: list[str] = []
        self.threads: set[str] = set()
        self.problems: list[str] = []
        self.fail_elected, self.fail_revoked = fail_elected, fail_revoked
        self._busy = threading.Lock()

    def _record(self, name: str, fail: bool) -> None:
        if not self._busy.acquire(blocking=False):
            self.problems.append(f"{name} ran concurrently")
            return
        try:
            expected = "elected" if not self.events or self.events[-1] == "revoked" else "revoked"
            if name != expected:
                self.problems.append(f"{name} after {self.events[-1:]}")
            self.events.append(name)
            self.threads.add(threading.current_thread().name)
        finally:
            self._busy.release()
        if fail:
            raise RuntimeError(f"{name} failed on purpose")

    def elected(self) -> None:
        self._record("elected", self.fail_elected)

    def revoked(self) -> None:
        self._record("revoked", self.fail_revoked)


@pytest.fixture
def candidates(zk_hosts):
    """``make(identity)`` → (election, calls); each candidate has its own ZooKeeper session."""
    made: list[tuple[LeaderElection, ZooKeeperConnection]] = []

    def make(identity: str, **calls_options) -> tuple[LeaderElection, Calls]:
        connection = ZooKeeperConnection(zk_hosts, "elastic-job-cloud", session_timeout=4.0).start()
        calls = Calls(**calls_options)
        election = LeaderElection(connection, identity, calls.elected, calls.revoked, retry_interval=0.2)
        made.append((election, connection))
        return election.start(), calls

    yield make
    for election, connection in made:
        election.stop()
        connection.stop()


def expire(election: LeaderElection) -> None:
    """Close the session from a second client holding the same id: the server expires it for real."""
    client = election._client
    lost = threading.Event()
    client.add_listener(lambda state: lost.set() if state == KazooState.LOST else None)
    session_id, password = client.client_id
    servers = ",".join(f"{host}:{port}" for host, port in client.hosts)
    other = KazooClient(hosts=servers, client_id=(session_id, password))
    other.start(10)
    other.stop()
    other.close()
    assert lost.wait(10), "the session was not reported lost"


def test_sorted_candidates_orders_by_sequence_and_ignores_other_names():
    names = ["candidate-b-0000000012", "x", "candidate-a-0000000003", "_c_f00-lock-0000000007"]
    assert sorted_candidates(names) == [
        "candidate-a-0000000003",
        "_c_f00-lock-0000000007",
        "candidate-b-0000000012",
    ]


def test_single_candidate_leads_and_stop_revokes(candidates):
    election, calls = candidates("10.0.0.1:8899")
    wait_until(lambda: election.is_leader, 10, message="elected")
    assert calls.events == ["elected"]
    assert calls.threads == {"election-10.0.0.1:8899"}  # a dedicated thread, not kazoo's
    assert election.leader_identity() == "10.0.0.1:8899"
    node = election.candidate_path
    assert node is not None and node.startswith(f"{paths.ELECTION}/candidate-")
    election.stop()
    assert calls.events == ["elected", "revoked"] and not election.is_leader
    assert not election._client.exists(node)
    assert election.leader_identity() is None
    assert not calls.problems


def test_two_candidates_one_leader_both_see_it(candidates):
    first, _ = candidates("host-a:8899")
    wait_until(lambda: first.is_leader, 10, message="first elected")
    second, second_calls = candidates("host-b:8899")
    wait_until(lambda: second.candidate_path is not None, 10, message="second is a candidate")
    assert first.is_leader and not second.is_leader
    assert first.leader_identity() == second.leader_identity() == "host-a:8899"
    assert second_calls.events == []
    # the follower watches exactly its predecessor
    client = second._client
    watched = {path for path, watchers in client._data_watchers.items() if second._on_watch in watchers}
    assert watched == {client.chroot + first.candidate_path}  # kazoo keys watches by absolute path


def test_leader_stop_hands_over(candidates):
    first, first_calls = candidates("host-a:1")
    wait_until(lambda: first.is_leader, 10, message="first elected")
    second, second_calls = candidates("host-b:2")
    third, third_calls = candidates("host-c:3")
    wait_until(lambda: third.candidate_path is not None, 10, message="third is a candidate")
    first.stop()
    wait_until(lambda: second.is_leader, 10, message="second takes over")
    assert second_calls.events == ["elected"] and first_calls.events == ["elected", "revoked"]
    assert third.leader_identity() == "host-b:2" and not third.is_leader
    second.stop()
    wait_until(lambda: third.is_leader, 10, message="third takes over")
    assert not (first_calls.problems or second_calls.problems or third_calls.problems)


def test_session_expiry_revokes_and_the_other_takes_over(candidates):
    first, first_calls = candidates("host-a:1")
    wait_until(lambda: first.is_leader, 10, message="first elected")
    old_node = first.candidate_path
    second, second_calls = candidates("host-b:2")
    wait_until(lambda: second.candidate_path is not None, 10, message="second is a candidate")
    expire(first)
    wait_until(lambda: first_calls.events == ["elected", "revoked"], 10, message="expired leader revoked")
    wait_until(lambda: second.is_leader, 10, message="second takes over")
    # the expired one reconnects with a new session and queues up again behind the new leader
    wait_until(
        lambda: first.candidate_path not in (None, old_node), 10, message="first re-enters with a new node"
    )
    wait_until(lambda: first.leader_identity() == "host-b:2", 10, message="first sees the new leader")
    assert not first.is_leader and first_calls.events == ["elected", "revoked"]
    second.stop()
    wait_until(lambda: first.is_leader, 10, message="first leads again once second withdraws")
    assert first_calls.events == ["elected", "revoked", "elected"]
    assert not (first_calls.problems or second_calls.problems)


def test_connection_drop_revokes_then_reelects_with_the_same_node(candidates):
    election, calls = candidates("host-a:1")
    wait_until(lambda: election.is_leader, 10, message="elected")
    node = election.candidate_path
    election._client._call(_CONNECTION_DROP, None)  # kazoo's own hook: drop the socket, keep the session
    wait_until(lambda: calls.events == ["elected", "revoked", "elected"], 10, message="revoked, re-elected")
    assert election.candidate_path == node and election.is_leader
    assert not calls.problems


def test_callback_exceptions_are_logged_and_the_election_goes_on(candidates, caplog):
    first, first_calls = candidates("host-a:1", fail_elected=True, fail_revoked=True)
    wait_until(lambda: first_calls.events == ["elected"], 10, message="first elected despite raising")
    assert first.is_leader
    second, second_calls = candidates("host-b:2", fail_elected=True)
    wait_until(lambda: second.candidate_path is not None, 10, message="second is a candidate")
    first.stop()
    assert first_calls.events == ["elected", "revoked"]
    wait_until(lambda: second.is_leader, 10, message="second takes over")
    assert second.leader_identity() == "host-b:2"
    assert "on_elected raised" in caplog.text and "on_revoked raised" in caplog.text
    assert not (first_calls.problems or second_calls.problems)


def test_stop_from_inside_a_callback_does_not_deadlock(zk_connection):
    holder: list[LeaderElection] = []
    revoked = threading.Event()
    election = LeaderElection(zk_connection, "h:1", lambda: holder[0].stop(), revoked.set)
    holder.append(election)
    election.start()
    assert revoked.wait(10)
    wait_until(lambda: election.leader_identity() is None, 10, message="node deleted")
    assert not election.is_leader


def test_is_leader_turns_false_at_once_even_while_a_callback_is_busy(zk_connection):
    release, inside = threading.Event(), threading.Event()
    events: list[str] = []

    def elected() -> None:
        events.append("elected")
        inside.set()
        release.wait(10)  # the election thread is stuck here; kazoo's threads are not

    election = LeaderElection(zk_connection, "h:1", elected, lambda: events.append("revoked")).start()
    try:
        assert inside.wait(10) and election.is_leader
        zk_connection.client._call(_CONNECTION_DROP, None)
        wait_until(lambda: not election.is_leader, 5, message="is_leader false before on_revoked runs")
        assert events == ["elected"]
        release.set()
        wait_until(lambda: events[:2] == ["elected", "revoked"], 10, message="revoked once free")
        wait_until(lambda: election.is_leader, 10, message="re-elected after the reconnection")
    finally:
        release.set()
        election.stop()


def test_confirmed_asks_zookeeper_and_a_drop_is_reported_at_once(zk_connection):
    """``is_leader`` cannot see a node gone behind its back (a resumed process's expired session);
    ``confirmed`` asks ZooKeeper. ``on_disconnected`` comes on kazoo's thread, before revocation."""
    drops: list[str] = []
    events: list[str] = []
    election = LeaderElection(
        zk_connection,
        "h:1",
        lambda: events.append("elected"),
        lambda: events.append("revoked"),
        on_disconnected=lambda: drops.append(threading.current_thread().name),
    ).start()
    try:
        wait_until(lambda: election.is_leader, 10, message="elected")
        assert election.confirmed()
        zk_connection.client._call(_CONNECTION_DROP, None)
        wait_until(lambda: drops, 5, message="on_disconnected")
        assert not drops[0].startswith("election-")  # kazoo's thread, not the election's queue
        wait_until(lambda: events == ["elected", "revoked", "elected"], 10, message="re-elected")
        assert election.confirmed()
        zk_connection.client.delete(election.candidate_path)  # as an expired session's node goes
        assert election.is_leader and not election.confirmed()
    finally:
        election.stop()
    assert not election.confirmed()
