"""Independent transactions packed into few multis: each still applies alone or not at all."""

import pytest

from elasticjob_cloud.exceptions import AlreadyExists, Conflict
from elasticjob_cloud.registry.grouped import GROUPS_PER_MULTI, commit_groups
from elasticjob_cloud.registry.tree import Create, SetData


@pytest.fixture(params=["memory", "zookeeper"])
def tree(request):
    from elasticjob_cloud.registry.memory import MemoryTree
    from elasticjob_cloud.registry.zookeeper import KazooTree

    backend = (
        MemoryTree() if request.param == "memory" else KazooTree(request.getfixturevalue("zk_connection"))
    )

    class Counting:
        """Counts the multis sent, to show the packing."""

        def __init__(self):
            self.multis = 0

        def __getattr__(self, name):
            return getattr(backend, name)

        def commit_many(self, batches):
            self.multis += len(batches)
            return backend.commit_many(batches)

    return Counting()


def test_groups_apply_independently_in_few_multis(tree):
    tree.ensure("/g")
    tree.commit([Create("/g/taken", b"0")])
    groups = [
        [Create(f"/g/n{i}", b"x"), Create(f"/g/n{i}-tasks", b"y")] for i in range(2 * GROUPS_PER_MULTI + 10)
    ]
    groups[7] = [Create("/g/fine7"), Create("/g/taken")]  # fails: the node exists
    groups[80] = [SetData("/g/taken", b"1", 5), Create("/g/fine80")]  # fails: wrong version

    outcomes = commit_groups(tree, groups)

    assert isinstance(outcomes[7], AlreadyExists) and isinstance(outcomes[80], Conflict)
    assert [i for i, o in enumerate(outcomes) if o is not None] == [7, 80]
    assert not tree.exists("/g/fine7") and not tree.exists("/g/fine80")  # failed groups left nothing
    assert all(tree.exists(f"/g/n{i}-tasks") for i in range(len(groups)) if i not in (7, 80))
    # 3 packed multis, then the 2 failed packs' 100 groups one by one
    assert tree.multis == 3 + 2 * GROUPS_PER_MULTI


def test_without_failures_a_pack_is_one_multi(tree):
    tree.ensure("/g")
    assert (
        commit_groups(tree, [[Create(f"/g/{i}")] for i in range(GROUPS_PER_MULTI)])
        == [None] * GROUPS_PER_MULTI
    )
    assert tree.multis == 1
