"""In-memory twin of the ZooKeeper tree, for unit tests and the contract suite.

Watches fire synchronously, after the change is applied and outside the lock, so a unit test sees
the notification before ``commit`` returns (ZooKeeper delivers it a moment later).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from ..exceptions import AlreadyExists, Conflict, ElasticJobError, NotFound
from .tree import Check, Create, Delete, Op, SetData, Stamped, Watcher, check_write

log = logging.getLogger(__name__)


def _parent(path: str) -> str:
    return path.rsplit("/", 1)[0] or "/"


class MemoryTree:
    def __init__(self) -> None:
        self._nodes: dict[str, tuple[bytes, int]] = {"/": (b"", 0)}
        self._lock = threading.Lock()
        self._watchers: list[tuple[str, Watcher]] = []
        self._times: dict[str, tuple[float, float]] = {}  # path → (created, modified), as ZooKeeper's stat

    def get(self, path: str) -> tuple[bytes, int] | None:
        with self._lock:
            return self._nodes.get(path)

    def children(self, path: str) -> list[str]:
        prefix = path.rstrip("/") + "/"
        with self._lock:
            return sorted(
                p[len(prefix) :] for p in self._nodes if p.startswith(prefix) and "/" not in p[len(prefix) :]
            )

    def children_many(self, paths: list[str]) -> list[list[str]]:
        return [self.children(path) for path in paths]

    def exists(self, path: str) -> bool:
        with self._lock:
            return path in self._nodes

    def ensure(self, path: str) -> None:
        created = []
        with self._lock:
            parts = [p for p in path.split("/") if p]
            for i in range(1, len(parts) + 1):
                node = "/" + "/".join(parts[:i])
                if node not in self._nodes:
                    self._nodes[node] = (b"", 0)
                    self._times[node] = (time.time(), time.time())
                    created.append(node)
        self._notify(created)

    def child_count(self, path: str) -> int:
        return len(self.children(path))

    def get_many(self, paths: list[str]) -> list[tuple[bytes, int] | None]:
        with self._lock:
            return [self._nodes.get(path) for path in paths]

    def get_many_stamped(self, paths: list[str]) -> list[Stamped | None]:
        with self._lock:
            found = [(self._nodes.get(path), self._times.get(path, (0.0, 0.0))) for path in paths]
        return [Stamped(*node, *times) if node is not None else None for node, times in found]

    def commit_many(self, batches: list[list[Op]]) -> list[Exception | None]:
        results: list[Exception | None] = []
        for ops in batches:
            try:
                self.commit(ops)
                results.append(None)
            except ElasticJobError as exc:
                results.append(exc)
        return results

    def watch(self, path: str, callback: Watcher) -> Callable[[], None]:
        entry = (path.rstrip("/") or "/", callback)
        with self._lock:
            self._watchers.append(entry)

        def unsubscribe() -> None:
            with self._lock:
                if entry in self._watchers:
                    self._watchers.remove(entry)

        return unsubscribe

    def watch_children(self, path: str, callback: Watcher) -> Callable[[], None]:
        return self.watch(path, callback)  # in memory every change is reported: a superset

    def _notify(self, changed: list[str]) -> None:
        if not changed:
            return
        with self._lock:
            watchers = list(self._watchers)
        for root, callback in watchers:
            for path in changed:
                if path == root or path.startswith(root.rstrip("/") + "/"):
                    try:
                        callback(path)
                    except Exception:
                        log.exception("watch callback for %s failed on %s", root, path)

    def descendants(self, path: str) -> list[str]:
        prefix = path.rstrip("/") + "/"
        with self._lock:
            found = [p for p in self._nodes if p.startswith(prefix)]
        return sorted(found, key=lambda p: p.count("/"), reverse=True)

    def commit(self, ops: list[Op]) -> None:
        check_write(ops)  # the same guard as on ZooKeeper, so both backends refuse the same writes
        with self._lock:
            nodes = dict(self._nodes)
            for op in ops:
                self._apply(nodes, op)
            self._nodes = nodes
            now = time.time()
            for op in ops:
                if isinstance(op, Create):
                    self._times[op.path] = (now, now)
                elif isinstance(op, SetData):
                    self._times[op.path] = (self._times.get(op.path, (now, now))[0], now)
                elif isinstance(op, Delete):
                    self._times.pop(op.path, None)
        self._notify([op.path for op in ops if not isinstance(op, Check)])

    @staticmethod
    def _apply(nodes: dict[str, tuple[bytes, int]], op: Op) -> None:
        if isinstance(op, Create):
            if op.path in nodes:
                raise AlreadyExists(f"node {op.path} already exists")
            if _parent(op.path) not in nodes:
                raise NotFound(f"parent of {op.path} does not exist")
            nodes[op.path] = (op.data, 0)
            return
        current = nodes.get(op.path)
        if current is None:
            raise NotFound(f"node {op.path} does not exist")
        if op.version != -1 and current[1] != op.version:
            raise Conflict(f"node {op.path} changed concurrently")
        if isinstance(op, SetData):
            nodes[op.path] = (op.data, current[1] + 1)
        elif isinstance(op, Delete):
            if any(p.startswith(op.path + "/") for p in nodes):
                raise Conflict(f"node {op.path} has children")
            del nodes[op.path]
        elif not isinstance(op, Check):  # pragma: no cover - exhaustive
            raise TypeError(op)
