"""A queue the engine reads each round only while it may hold something.

Most rounds find ``/state/triggered`` (runs triggered with parameters, issue #17) empty; reading it
anyway cost a ZooKeeper round trip on every round. With a watch on the queue's subtree (set up by
the service), a round reads it only after a change was reported, or while the last read found
entries (they are taken by later transactions: read again until empty). Without a watch (tests,
or before the service set it up) every call reads. The failover queue follows the same rule
inline in the engine.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class WatchedQueue(Generic[T]):
    def __init__(self, read: Callable[[], list[T]]):
        self._read = read
        self.watched = False
        self._changed = True

    def changed(self, *_: Any) -> None:
        """Watch callback (any thread): the queue changed, or changes may have been missed."""
        self._changed = True

    def entries(self) -> list[T]:
        if not self.watched:
            return self._read()  # and the first read once watched still reads
        if not self._changed:
            return []  # read empty since, and no change reported
        self._changed = False  # before the read: a change during it is reported again
        try:
            found = self._read()
        except Exception:
            self._changed = True
            raise
        if found:
            self._changed = True
        return found
