"""The node-tree seam under every store: the few ZooKeeper operations the stores need.

Two backends implement it: ``KazooTree`` (a real ZooKeeper) and ``MemoryTree`` (tests). Stores
are written once against this seam, so the same contract tests prove both.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple, Protocol

from ..core.limits import MAX_WRITE_BYTES
from ..exceptions import InvalidConfig, PayloadTooLarge

# Characters ZooKeeper refuses in a path (its PathUtils), plus lone surrogates: a surrogate cannot
# even be encoded, and kazoo failing to encode a request drops the whole session.
_BAD_PATH_CHARS = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\uf8ff\ufff0-\uffff]")


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


class Stamped(NamedTuple):
    """A node's data and version with its stat times (epoch seconds, the ZooKeeper server's clock):
    ``created`` (ctime) and ``modified`` (mtime). They come with every read of the node, free."""

    data: bytes
    version: int
    created: float
    modified: float


def check_path(path: str) -> str:
    """``path`` when ZooKeeper can take it: absolute, no empty, ``.`` or ``..`` part, no refused
    character. Names are checked long before (``core.names``); this guard makes sure no caller can
    send a request that kazoo cannot encode or ZooKeeper refuses by closing the session."""
    if (
        path.startswith("/")
        and path.isascii()
        and path.isprintable()
        and "//" not in path
        and "/." not in path
        and (len(path) == 1 or not path.endswith("/"))
    ):
        return path
    parts = path.split("/")
    if (
        not path.startswith("/")
        or _BAD_PATH_CHARS.search(path)
        or (path != "/" and any(part in ("", ".", "..") for part in parts[1:]))
    ):
        shown = repr(path[:120].encode("utf-8", "backslashreplace").decode())
        raise InvalidConfig(f"refused ZooKeeper path {shown}", {"path": ["not a valid ZooKeeper path"]})
    return path


def check_write(ops: list[Op]) -> None:
    """Refuse a transaction over ``MAX_WRITE_BYTES`` or with a bad path, before it is sent.

    ZooKeeper answers a request over ``jute.maxbuffer`` (1 MB) by closing the connection: the
    session, its ephemeral nodes and the leadership would go with it.
    """
    size = 0
    for op in ops:
        check_path(op.path)
        size += len(op.path) + (len(op.data) if isinstance(op, Create | SetData) else 0)
    if size > MAX_WRITE_BYTES:
        paths = ", ".join(op.path for op in ops[:3])
        raise PayloadTooLarge(
            f"refused a ZooKeeper write of {size} bytes ({paths}): at most {MAX_WRITE_BYTES} bytes"
        )


Watcher = Callable[[str | None], None]
"""Told the path of a node created, changed or deleted under a watched path; ``None`` means "changes
may have been missed (reconnection): re-read everything". Must return quickly and never raise."""


class Tree(Protocol):
    def get(self, path: str) -> tuple[bytes, int] | None:
        """Data and version, or None when the node does not exist."""

    def children(self, path: str) -> list[str]:
        """Child names, sorted; empty when the node does not exist."""

    def children_many(self, paths: list[str]) -> list[list[str]]:
        """``children`` of every path, pipelined where the backend can (a new leader lists every
        job's ``/state/running`` node at once instead of one round trip per job)."""

    def exists(self, path: str) -> bool: ...

    def ensure(self, path: str) -> None:
        """Create ``path`` and its parents (empty data) where missing."""

    def commit(self, ops: list[Op]) -> None:
        """Apply all ops atomically. Raises NotFound / AlreadyExists / Conflict naming the path."""

    def descendants(self, path: str) -> list[str]:
        """Every node under ``path`` (deepest first), for recursive deletes."""

    def child_count(self, path: str) -> int:
        """How many children ``path`` has (0 when missing), without listing them."""

    def get_many(self, paths: list[str]) -> list[tuple[bytes, int] | None]:
        """``get`` of every path, pipelined where the backend can."""

    def get_many_stamped(self, paths: list[str]) -> list[Stamped | None]:
        """``get_many`` with each node's stat times (the ready counters: when a queue last became
        non-empty and last changed, ``core.queued_at``)."""

    def commit_many(self, batches: list[list[Op]]) -> list[Exception | None]:
        """Commit each batch atomically and independently, pipelined where the backend can.

        One result per batch: None on success, else the translated error (NotFound, AlreadyExists,
        Conflict, RegistryUnavailable). Never raises for a single failed batch.
        """

    def watch(self, path: str, callback: Watcher) -> Callable[[], None]:
        """Call ``callback`` for every change at or under ``path`` from now on; returns an unsubscribe.

        Changes made before ``watch`` returns are not reported: read the state after subscribing.
        """

    def watch_children(self, path: str, callback: Watcher) -> Callable[[], None]:
        """Like ``watch``, but only children of ``path`` appearing or going are promised (their data
        changes may go unreported). Much cheaper on ZooKeeper for a busy queue: one child watch,
        not a data and a child watch per node, each re-read on every change."""
