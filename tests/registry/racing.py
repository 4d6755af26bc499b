"""A ``Tree`` that lets another writer act between a store's reads and its commit.

Wraps either backend (the in-memory twin or a real ZooKeeper). Each hook queued with ``before``
runs once, just before the next commit is sent, with the ops about to be committed: exactly the
window where the engine consuming a ready run or the producer writing a fire used to break a
change planned from earlier reads.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from elasticjob_cloud.registry.tree import Op, Tree

Hook = Callable[[list[Op]], None]


class RacingTree:
    def __init__(self, inner: Tree):
        self.inner = inner
        self.hooks: list[Hook | None] = []
        self.commits = 0

    def before(self, *hooks: Hook | None) -> RacingTree:
        """Hooks for the next commits, in order (``None``: let that commit through untouched)."""
        self.hooks.extend(hooks)
        return self

    def commit(self, ops: list[Op]) -> None:
        self.commits += 1
        if self.hooks:
            hook = self.hooks.pop(0)
            if hook is not None:
                hook(ops)
        self.inner.commit(ops)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)
