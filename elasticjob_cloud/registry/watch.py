"""Subtree watches over ZooKeeper: kazoo's ``TreeCache`` reduced to "this path changed".

The original watched ``/config/job`` with Curator's TreeCache; this is the same mechanism (one data
and one child watch per node, re-armed by the recipe, re-synchronised after a reconnection). Only
paths are handed on: readers re-read the nodes they care about, so a watcher never acts on a stale
copy. The cache's start-up burst (one "added" per existing node) is not reported: ``watch_subtree``
returns once the cache is initialised, and the caller reads the current state after that.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from kazoo.recipe.cache import TreeCache, TreeEvent
from kazoo.recipe.watchers import ChildrenWatch

from ..exceptions import RegistryUnavailable
from .tree import Watcher

log = logging.getLogger(__name__)

_NODE_EVENTS = (TreeEvent.NODE_ADDED, TreeEvent.NODE_UPDATED, TreeEvent.NODE_REMOVED)


def watch_subtree(client: Any, path: str, callback: Watcher, timeout: float) -> Callable[[], None]:
    """Start a TreeCache on ``path``; report changes after its initial load. Returns ``close``."""
    initialised = threading.Event()
    cache = TreeCache(client, path)

    def deliver(changed: str | None) -> None:
        try:
            callback(changed)
        except Exception:  # a watcher must not kill the cache's thread
            log.exception("watch callback for %s failed", path)

    def on_event(event: Any) -> None:
        if event.event_type == TreeEvent.INITIALIZED:
            initialised.set()
        elif not initialised.is_set():
            return  # the initial load: the caller reads the state itself once we return
        elif event.event_type in _NODE_EVENTS and event.event_data is not None:
            deliver(event.event_data.path)
        elif event.event_type == TreeEvent.CONNECTION_RECONNECTED:
            deliver(None)  # events may have been missed while disconnected

    cache.listen(on_event)
    cache.listen_fault(lambda exc: log.warning("watch on %s: %s", path, exc))
    try:
        cache.start()
    except Exception as exc:
        cache.close()
        raise RegistryUnavailable(f"cannot watch {path}: {type(exc).__name__} {exc}") from exc
    if not initialised.wait(max(timeout, 1.0) * 4):
        cache.close()
        raise RegistryUnavailable(f"watch on {path} did not initialise in time")
    return cache.close


def watch_children(client: Any, path: str, callback: Watcher) -> Callable[[], None]:
    """A child watch on ``path`` (kazoo's ``ChildrenWatch``, re-armed after each change and after a
    reconnection): ``callback(path)`` when children came or went. The recipe's first call (the
    current children) is not reported. Returns ``close``; the watch is dropped at the next event."""
    state = {"armed": False, "closed": False}

    def on_children(_children: list[str]) -> bool | None:
        if state["closed"]:
            return False  # tells the recipe to stop watching
        if not state["armed"]:
            state["armed"] = True
            return None
        try:
            callback(path)
        except Exception:
            log.exception("watch callback for %s failed", path)
        return None

    ChildrenWatch(client, path, on_children)

    def close() -> None:
        state["closed"] = True

    return close


class _Subscription:
    """One ``watch`` call's callback; its identity tells two subscriptions of one callback apart."""

    __slots__ = ("callback",)

    def __init__(self, callback: Watcher):
        self.callback = callback


class SharedWatches:
    """One ``TreeCache`` per watched path, however many subscribers it has.

    The engine's catalog and the cron producer both watch ``/config/job`` and the disable marks. A
    cache costs two reads and two watches per node to build: with 10,000 jobs ~4 s, and the leader
    built it twice before it could launch anything. A new subscriber joins the running cache and is
    told of changes from then on, which is what ``Tree.watch`` promises.
    """

    def __init__(self, client: Any, timeout: float):
        self._client = client
        self._timeout = timeout
        self._lock = threading.Lock()  # held while a cache starts: a second subscriber waits for it
        self._subscribers: dict[str, list[_Subscription]] = {}  # replaced on change, never mutated
        self._close: dict[str, Callable[[], None]] = {}

    def watch(self, path: str, callback: Watcher) -> Callable[[], None]:
        subscription = _Subscription(callback)
        with self._lock:
            if path not in self._close:
                self._close[path] = watch_subtree(self._client, path, self._fan_out(path), self._timeout)
                self._subscribers[path] = []
            self._subscribers[path] = [*self._subscribers[path], subscription]

        def unsubscribe() -> None:
            close = None
            with self._lock:
                remaining = [s for s in self._subscribers.get(path, []) if s is not subscription]
                if remaining or path not in self._close:
                    self._subscribers[path] = remaining
                else:
                    close = self._close.pop(path)
                    del self._subscribers[path]
            if close is not None:
                close()

        return unsubscribe

    def _fan_out(self, path: str) -> Watcher:
        def deliver(changed: str | None) -> None:
            for subscription in self._subscribers.get(path, []):
                try:
                    subscription.callback(changed)
                except Exception:
                    log.exception("watch callback for %s failed", path)

        return deliver
