"""The node-tree seam under every store: the few ZooKeeper operations the stores need.

Two backends implement it: ``KazooTree`` (a real ZooKeeper) and ``MemoryTree`` (tests). Stores
are written once against this seam, so the same contract tests prove both.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Create:
    path: str
    data: bytes = b""


@dataclass(frozen=True)
class SetData:
    path: str
    data: bytes
    version: int = -1


@dataclass(frozen=True)
class Delete:
    path: str
    version: int = -1


@dataclass(frozen=True)
class Check:
    """Fails the transaction unless ``path`` exists (at ``version``, when not -1)."""

    path: str
    version: int = -1


Op = Create | SetData | Delete | Check


class Tree(Protocol):
    def get(self, path: str) -> tuple[bytes, int] | None:
        """Data and version, or None when the node does not exist."""

    def children(self, path: str) -> list[str]:
        """Child names, sorted; empty when the node does not exist."""

    def exists(self, path: str) -> bool: ...

    def ensure(self, path: str) -> None:
        """Create ``path`` and its parents (empty data) where missing."""

    def commit(self, ops: list[Op]) -> None:
        """Apply all ops atomically. Raises NotFound / AlreadyExists / Conflict naming the path."""

    def descendants(self, path: str) -> list[str]:
        """Every node under ``path`` (deepest first), for recursive deletes."""
