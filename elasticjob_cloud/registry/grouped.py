"""Many independent transactions sent as few ZooKeeper multis, each still all-or-nothing on its own.

A launch round records up to hundreds of runs (one transaction each: take the run off its queue,
record its tasks) and a flush removes as many finished tasks. Sent one multi per transaction, each
is its own request through kazoo's connection thread and its own transaction-log entry: 167 runs
took ~200 ms to write. Packed ``GROUPS_PER_MULTI`` to a multi they take a few requests. A packed
multi is all or nothing, so when one fails (a guard moved: another writer, a stale record) its
groups are sent again one by one, and each group gets its own outcome, as if never packed.
"""

from __future__ import annotations

from ..exceptions import RegistryUnavailable
from .tree import Op, Tree

GROUPS_PER_MULTI = 50
MULTI_OPS = 1000
MULTI_BYTES = 256 * 1024  # well under ZooKeeper's jute.maxbuffer (1 MB)


def commit_groups(tree: Tree, groups: list[list[Op]]) -> list[Exception | None]:
    """Apply each group atomically and independently; one outcome per group, in order."""
    packs = _pack(groups)
    outcomes: list[Exception | None] = [None] * len(groups)
    redo: list[int] = []
    answers = tree.commit_many([[op for i in pack for op in groups[i]] for pack in packs])
    for pack, error in zip(packs, answers, strict=True):
        if error is not None and len(pack) > 1 and not isinstance(error, RegistryUnavailable):
            redo.extend(pack)
        else:
            for i in pack:
                outcomes[i] = error
    if redo:
        for i, error in zip(redo, tree.commit_many([groups[i] for i in redo]), strict=True):
            outcomes[i] = error
    return outcomes


def _pack(groups: list[list[Op]]) -> list[list[int]]:
    packs: list[list[int]] = []
    ops = size = 0
    for i, group in enumerate(groups):
        cost = sum(len(op.path) + len(getattr(op, "data", b"")) + 32 for op in group)
        if (
            not packs
            or len(packs[-1]) >= GROUPS_PER_MULTI
            or ops + len(group) > MULTI_OPS
            or size + cost > MULTI_BYTES
        ):
            packs.append([])
            ops = size = 0
        packs[-1].append(i)
        ops += len(group)
        size += cost
    return packs
