"""``get_many`` over ZooKeeper's multiRead, on a real server under a chroot.

Single pipelined gets are the oracle: the same paths must read the same data and versions, in order,
across the chunk boundary, with missing nodes as None.
"""

import time

import pytest
from kazoo.exceptions import UnimplementedError

from elasticjob_cloud.registry import multiread, zookeeper
from elasticjob_cloud.registry.tree import Create, SetData
from elasticjob_cloud.registry.zookeeper import MULTI_READ_PATHS, KazooTree


@pytest.fixture
def tree(zk_connection):
    return KazooTree(zk_connection)


def test_many_paths_read_as_single_gets_would_in_order_across_chunks(tree):
    tree.ensure("/m")
    count = MULTI_READ_PATHS * 2 + 7
    tree.commit_many([[Create(f"/m/n{i}", f"v{i}".encode())] for i in range(0, count, 3)])
    tree.commit_many([[SetData(f"/m/n{i}", b"again", 0)] for i in range(0, count, 9)])
    tree.commit([Create("/m/empty")])
    asked = [f"/m/n{i}" for i in range(count)] + ["/m/empty", "/nowhere/at/all"]

    found = tree.get_many(asked)

    assert found == tree._single_gets(asked)
    assert found[0] == (b"again", 1) and found[3] == (b"v3", 0) and found[1] is None
    assert found[-2] == (b"", 0) and found[-1] is None
    assert sum(f is not None for f in found) == len(range(0, count, 3)) + 1
    assert tree._multi_read  # the server has it: no fallback happened


def test_a_server_without_multiread_is_read_node_by_node(tree, monkeypatch):
    tree.ensure("/m")
    tree.commit([Create("/m/a", b"x")])

    class Unimplemented:
        def get(self, timeout=None):
            raise UnimplementedError()

    monkeypatch.setattr(multiread, "send", lambda client, paths, kind=None: Unimplemented())
    assert tree.get_many(["/m/a", "/m/b"]) == [(b"x", 0), None]
    assert tree._multi_read is False
    assert zookeeper.KazooTree(tree.connection)._multi_read  # a new tree tries again


def test_many_nodes_listed_as_single_calls_would_in_order_across_chunks(tree):
    tree.ensure("/c")
    count = MULTI_READ_PATHS + 13
    tree.commit_many(
        [[Create(f"/c/n{i}"), *(Create(f"/c/n{i}/k{j}") for j in range(i % 4))] for i in range(count)]
    )
    asked = [f"/c/n{i}" for i in range(count)] + ["/nowhere/at/all", "/c"]

    found = tree.children_many(asked)

    assert found == tree._single_children(asked)
    assert found[0] == [] and found[3] == ["k0", "k1", "k2"] and found[-2] == []
    assert found[-1] == sorted(f"n{i}" for i in range(count))
    assert tree._multi_read


def test_a_server_without_multiread_is_listed_node_by_node(tree, monkeypatch):
    tree.ensure("/c/a/x")

    class Unimplemented:
        def get(self, timeout=None):
            raise UnimplementedError()

    monkeypatch.setattr(multiread, "send", lambda client, paths, children=False: Unimplemented())
    assert tree.children_many(["/c/a", "/c/b"]) == [["x"], []]
    assert tree._multi_read is False


def test_a_stamped_read_carries_each_nodes_ctime_and_mtime_as_single_gets_would(tree):
    tree.ensure("/s")
    before = time.time()
    tree.commit([Create("/s/a", b"1"), Create("/s/b", b"2")])
    time.sleep(0.05)  # so the change's mtime can differ from the creation's ctime
    tree.commit([SetData("/s/a", b"3")])
    asked = ["/s/a", "/s/missing", "/s/b"]

    found = tree.get_many_stamped(asked)

    assert found == tree._single_gets(asked, stamped=True)
    a, missing, b = found
    assert missing is None and (a.data, a.version, b.data, b.version) == (b"3", 1, b"2", 0)
    assert before - 1 <= a.created == b.created == b.modified < a.modified <= time.time() + 1
