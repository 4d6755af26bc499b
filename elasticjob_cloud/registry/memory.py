"""In-memory twin of the ZooKeeper tree, for unit tests and the contract suite."""

from __future__ import annotations

import threading

from ..exceptions import AlreadyExists, Conflict, NotFound
from .tree import Check, Create, Delete, Op, SetData


def _parent(path: str) -> str:
    return path.rsplit("/", 1)[0] or "/"


class MemoryTree:
    def __init__(self) -> None:
        self._nodes: dict[str, tuple[bytes, int]] = {"/": (b"", 0)}
        self._lock = threading.Lock()

    def get(self, path: str) -> tuple[bytes, int] | None:
        with self._lock:
            return self._nodes.get(path)

    def children(self, path: str) -> list[str]:
        prefix = path.rstrip("/") + "/"
        with self._lock:
            return sorted(
                p[len(prefix) :] for p in self._nodes if p.startswith(prefix) and "/" not in p[len(prefix) :]
            )

    def exists(self, path: str) -> bool:
        with self._lock:
            return path in self._nodes

    def ensure(self, path: str) -> None:
        with self._lock:
            parts = [p for p in path.split("/") if p]
            for i in range(1, len(parts) + 1):
                self._nodes.setdefault("/" + "/".join(parts[:i]), (b"", 0))

    def descendants(self, path: str) -> list[str]:
        prefix = path.rstrip("/") + "/"
        with self._lock:
            found = [p for p in self._nodes if p.startswith(prefix)]
        return sorted(found, key=lambda p: p.count("/"), reverse=True)

    def commit(self, ops: list[Op]) -> None:
        with self._lock:
            nodes = dict(self._nodes)
            for op in ops:
                self._apply(nodes, op)
            self._nodes = nodes

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
