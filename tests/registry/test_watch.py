"""Subtree watches: in memory (synchronous) and on a real ZooKeeper (TreeCache), same contract."""

import threading

import pytest

from elasticjob_cloud.registry.tree import Create, Delete, SetData
from tests.support import wait_until


@pytest.fixture(params=["memory", "zookeeper"])
def tree(request):
    from elasticjob_cloud.registry.memory import MemoryTree
    from elasticjob_cloud.registry.zookeeper import KazooTree

    if request.param == "memory":
        return MemoryTree()
    return KazooTree(request.getfixturevalue("zk_connection"))


class Seen:
    def __init__(self):
        self.paths, self.lock = [], threading.Lock()

    def __call__(self, path):
        with self.lock:
            self.paths.append(path)

    def has(self, path):
        with self.lock:
            return path in self.paths


def test_changes_under_the_path_are_reported_and_unsubscribe_stops_them(tree):
    tree.ensure("/w/sub")
    tree.ensure("/other")
    seen = Seen()
    unsubscribe = tree.watch("/w", seen)
    tree.commit([Create("/w/sub/a", b"1")])
    wait_until(lambda: seen.has("/w/sub/a"), 1.0, message="created node reported")
    tree.commit([SetData("/w/sub/a", b"2")])
    tree.commit([Create("/other/x")])
    tree.commit([Delete("/w/sub/a")])
    wait_until(lambda: seen.paths.count("/w/sub/a") >= 3, 1.0, message="update and delete reported")
    assert not any(p and p.startswith("/other") for p in seen.paths)
    unsubscribe()
    still = Seen()  # a watch that stays: once it has seen /w/b, the closed one would have too
    tree.watch("/w", still)
    tree.commit([Create("/w/b")])
    wait_until(lambda: still.has("/w/b"), 1.0, message="the change reported to the open watch")
    assert not seen.has("/w/b")


def test_existing_nodes_are_not_replayed(tree):
    tree.ensure("/w/old")
    seen = Seen()
    tree.watch("/w", seen)
    tree.commit([Create("/w/new")])
    wait_until(lambda: seen.has("/w/new"), 1.0, message="new node reported")
    assert not seen.has("/w/old")


def test_pipelined_reads_and_independent_batches(tree):
    tree.ensure("/p")
    tree.commit([Create("/p/a", b"x")])
    assert tree.get_many(["/p/a", "/p/missing"]) == [(b"x", 0), None]
    assert tree.child_count("/p") == 1 and tree.child_count("/nowhere") == 0
    results = tree.commit_many([[Create("/p/b")], [Create("/p/a")], [SetData("/p/a", b"y", 0)]])
    assert results[0] is None and results[2] is None and type(results[1]).__name__ == "AlreadyExists"
    assert tree.get("/p/a") == (b"y", 1) and tree.exists("/p/b")


def test_a_children_watch_reports_children_coming_and_going_until_closed(tree):
    tree.ensure("/q")
    tree.commit([Create("/q/old")])
    seen = Seen()
    close = tree.watch_children("/q", seen)
    assert seen.paths == []  # what was there before is not replayed
    tree.commit([Create("/q/a", b"1")])
    wait_until(lambda: len(seen.paths) >= 1, 2.0, message="a new child reported")
    tree.commit([Delete("/q/old")])
    wait_until(lambda: len(seen.paths) >= 2, 2.0, message="a removed child reported")
    assert set(seen.paths) <= {"/q", "/q/a", "/q/old"}
    close()
    count = len(seen.paths)
    tree.commit([Create("/q/b")])
    later = Seen()
    tree.watch_children("/q", later)
    tree.commit([Create("/q/c")])
    wait_until(lambda: len(later.paths) >= 1, 2.0, message="an open watch sees the next child")
    assert len(seen.paths) == count  # the closed one saw neither


def test_subscribers_of_one_path_share_a_cache_and_leave_it_independently(zk_connection):
    from elasticjob_cloud.registry.zookeeper import KazooTree

    tree = KazooTree(zk_connection)
    tree.ensure("/s")
    first, second = Seen(), Seen()
    close_first = tree.watch("/s", first)
    close_second = tree.watch("/s", second)
    assert len(tree._watches._close) == 1  # one subtree cache for both
    tree.commit([Create("/s/a")])
    wait_until(lambda: first.has("/s/a") and second.has("/s/a"), 2.0, message="both told")
    close_first()
    tree.commit([Create("/s/b")])
    wait_until(lambda: second.has("/s/b"), 2.0, message="the remaining subscriber told")
    assert not first.has("/s/b")
    close_second()
    assert tree._watches._close == {}  # the last one out closed the cache
