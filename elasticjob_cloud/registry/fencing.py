"""Fencing: every write of one leadership carries a check of that leader's election node.

The election node is ephemeral: it goes with the session that created it. A leader paused past its
session timeout (SIGSTOP, a long collector pause, a frozen VM) has lost its leadership to a standby
by the time it runs again, yet its threads may run a round or write a fire before kazoo reports
the lost session, and kazoo reconnects with a new session by itself. With the check in the same
transaction, ZooKeeper refuses every such write (``Deposed``, a ``RegistryUnavailable``: callers
keep the work for later and acknowledge nothing). The engine launches only runs whose transaction
applied, so a deposed leader launches nothing either; the election then revokes the leadership and
the service stops its driver.
"""

from __future__ import annotations

from typing import Any

from ..exceptions import Deposed, NotFound
from .tree import Check, Op, Tree


class FencedTree:
    """``Tree`` whose commits hold only while ``node`` (this leadership's election node) exists."""

    def __init__(self, inner: Tree, node: str):
        self.inner = inner
        self.node = node

    def commit(self, ops: list[Op]) -> None:
        if not ops:
            return
        try:
            self.inner.commit([Check(self.node), *ops])
        except NotFound as exc:
            raise self._deposed() if not self.inner.exists(self.node) else exc from None

    def commit_many(self, batches: list[list[Op]]) -> list[Exception | None]:
        results = self.inner.commit_many([[Check(self.node), *ops] if ops else ops for ops in batches])
        if any(isinstance(r, NotFound) for r in results) and not self.inner.exists(self.node):
            return [self._deposed() if isinstance(r, NotFound) else r for r in results]
        return results

    def _deposed(self) -> Deposed:
        return Deposed(f"leadership lost: election node {self.node} is gone; write refused")

    def __getattr__(self, name: str) -> Any:  # reads and watches: unchanged
        return getattr(self.inner, name)
