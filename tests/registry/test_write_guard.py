"""The registry's last fence: no write or path can reach ZooKeeper in a form that drops the session.

ZooKeeper closes the connection on a packet over ``jute.maxbuffer`` (1 MB), and kazoo loses the
session for good when it cannot encode a path (a lone surrogate). Before the guard, both took the
session, its ephemeral nodes and the scheduler's leadership with them.
"""

import pytest

from elasticjob_cloud.core.limits import MAX_WRITE_BYTES
from elasticjob_cloud.exceptions import InvalidConfig, PayloadTooLarge
from elasticjob_cloud.registry.memory import MemoryTree
from elasticjob_cloud.registry.tree import Create, SetData, check_path
from elasticjob_cloud.registry.zookeeper import KazooTree

BIG = b"x" * 1_100_000  # over ZooKeeper's default jute.maxbuffer


def session_alive(connection):
    """The session id, after proving a round trip still works on it."""
    assert connection.client.connected
    connection.client.get("/")
    return connection.client.client_id[0]


@pytest.mark.parametrize(
    "ops",
    [
        [Create("/big", BIG)],
        [Create("/a", BIG[:600_000]), Create("/b", BIG[:600_000])],  # each fits, the transaction does not
    ],
    ids=["one-node", "transaction"],
)
def test_an_oversized_write_is_refused_and_the_session_survives(zk_connection, ops):
    tree = KazooTree(zk_connection)
    zk_connection.client.create("/leader-mark", b"", ephemeral=True)  # what leadership rests on
    session = session_alive(zk_connection)
    with pytest.raises(PayloadTooLarge) as refused:
        tree.commit(ops)
    assert f"at most {MAX_WRITE_BYTES} bytes" in refused.value.message
    assert tree.commit_many([ops, [Create("/small", b"ok")]])[0].__class__ is PayloadTooLarge
    assert session_alive(zk_connection) == session
    assert zk_connection.client.exists("/leader-mark") is not None
    assert tree.get("/small") == (b"ok", 0)
    assert not tree.exists("/big") and not tree.exists("/a")


def test_a_write_just_under_the_bound_is_stored(zk_connection):
    tree = KazooTree(zk_connection)
    tree.commit([Create("/n", b"")])
    tree.commit([SetData("/n", b"y" * (MAX_WRITE_BYTES - len("/n")))])
    assert len(tree.get("/n")[0]) == MAX_WRITE_BYTES - 2


@pytest.mark.parametrize(
    "path",
    [
        "/config/job/\ud800",
        "/config/job/a\x00b",
        "/config/job/..",
        "/config/job/.",
        "config/job/x",
        "/state/producer//",
        "/a/./b",
    ],
)
def test_a_bad_path_is_refused_before_kazoo_and_the_session_survives(zk_connection, path):
    tree = KazooTree(zk_connection)
    session = session_alive(zk_connection)
    for call in (tree.get, tree.exists, tree.children, tree.child_count, lambda p: tree.get_many([p])):
        with pytest.raises(InvalidConfig):
            call(path)
    with pytest.raises(InvalidConfig):
        tree.commit([Create(path, b"")])
    assert session_alive(zk_connection) == session


def test_the_memory_twin_refuses_the_same_writes():
    tree = MemoryTree()
    with pytest.raises(PayloadTooLarge):
        tree.commit([Create("/big", BIG)])
    with pytest.raises(InvalidConfig):
        tree.commit([Create("/config/..", b"")])
    assert not tree.exists("/big")


@pytest.mark.parametrize(
    "path", ["/", "/config/job/foo_job", "/config/job/.hidden", "/state/running/a/a@-@1"]
)
def test_good_paths_pass(path):
    assert check_path(path) == path
