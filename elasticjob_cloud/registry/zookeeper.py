"""The ZooKeeper connection (kazoo) and the tree backend over it.

Every ZooKeeper error is translated into the project's exceptions here, never swallowed (the
original silently ignored NoNode, NodeExists and ConnectionLoss). Operations are bounded by a
timeout and fail fast while the session is disconnected, so an API request answers 503 instead
of hanging.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from kazoo.client import KazooClient
from kazoo.exceptions import (
    BadVersionError,
    ConnectionClosedError,
    ConnectionLoss,
    KazooException,
    NoAuthError,
    NodeExistsError,
    NoNodeError,
    NotEmptyError,
    OperationTimeoutError,
    SessionExpiredError,
    UnimplementedError,
)
from kazoo.handlers.threading import KazooTimeoutError
from kazoo.security import make_digest_acl

from ..exceptions import AlreadyExists, Conflict, NotFound, RegistryUnavailable
from . import multiread
from .tree import Check, Create, Delete, Op, SetData, Stamped, Watcher, check_path, check_write
from .watch import SharedWatches, watch_children

log = logging.getLogger(__name__)
T = TypeVar("T")
MULTI_READ_PATHS = 500  # paths per multiRead: answers of a few hundred KB at most for our nodes
# Reconnection attempts, forever, at most 2 s apart. kazoo's default doubles the pause up to an hour:
# after a ZooKeeper outage of ten seconds the next attempt could come 13 s after the servers were
# back, and after a long one, much later (the API answering 503 and nothing launching meanwhile).
RECONNECT = dict(max_tries=-1, delay=0.1, backoff=2, max_delay=2.0)

_UNAVAILABLE = (
    ConnectionLoss,
    ConnectionClosedError,
    SessionExpiredError,
    OperationTimeoutError,
    KazooTimeoutError,
    NoAuthError,
)


def split_chroot(hosts: str) -> tuple[str, str]:
    """``"h1:2181,h2:2181/a/b"`` → ``("h1:2181,h2:2181", "/a/b")``."""
    if "/" in hosts:
        servers, _, chroot = hosts.partition("/")
        return servers, "/" + chroot.strip("/")
    return hosts, ""


def translate(exc: BaseException, path: str = "") -> Exception:
    where = f" at {path}" if path else ""
    if isinstance(exc, NoNodeError):
        return NotFound(f"ZooKeeper node missing{where}")
    if isinstance(exc, NodeExistsError):
        return AlreadyExists(f"ZooKeeper node exists{where}")
    if isinstance(exc, BadVersionError | NotEmptyError):
        return Conflict(f"ZooKeeper node changed concurrently{where}")
    if isinstance(exc, _UNAVAILABLE):
        return RegistryUnavailable(f"ZooKeeper unavailable{where}: {type(exc).__name__}")
    if isinstance(exc, KazooException):
        return RegistryUnavailable(f"ZooKeeper error{where}: {type(exc).__name__} {exc}")
    return exc if isinstance(exc, Exception) else RuntimeError(str(exc))


class ZooKeeperConnection:
    """A started kazoo client rooted at ``{chroot}/{namespace}``, with optional digest ACLs."""

    def __init__(
        self,
        servers: str,
        namespace: str = "elastic-job-cloud",
        digest: str = "",
        session_timeout: float = 10.0,
        operation_timeout: float = 5.0,
        connect_timeout: float = 15.0,
    ):
        hosts, chroot = split_chroot(servers)
        self.root = f"{chroot}/{namespace.strip('/')}" if namespace.strip("/") else chroot or "/"
        self.operation_timeout = operation_timeout
        auth: list[tuple[str, str]] = []
        acl = None
        if digest:
            user, _, password = digest.partition(":")
            auth = [("digest", digest)]
            acl = [make_digest_acl(user, password, all=True)]
        self._bootstrap_args = dict(hosts=hosts, timeout=session_timeout, auth_data=auth, default_acl=acl)
        self.client = KazooClient(
            hosts=hosts + (self.root if self.root != "/" else ""),
            timeout=session_timeout,
            auth_data=auth or None,
            default_acl=acl,
            connection_retry=RECONNECT,
        )
        self._connect_timeout = connect_timeout
        # (operation, seconds) of every request or pipelined batch; the composition root sets it
        self.timer: Callable[[str, float], None] | None = None

    def start(self) -> ZooKeeperConnection:
        """Create the namespace root if needed (a chroot must exist before use), then connect."""
        if self.root != "/":
            boot = KazooClient(**self._bootstrap_args)
            try:
                boot.start(self._connect_timeout)
                boot.ensure_path(self.root)
            except Exception as exc:
                raise translate(exc, self.root) from exc
            finally:
                boot.stop()
                boot.close()
        try:
            self.client.start(self._connect_timeout)
        except Exception as exc:
            raise translate(exc) from exc
        return self

    def stop(self) -> None:
        self.client.stop()
        self.client.close()

    @contextmanager
    def translated(self, path: str = "") -> Iterator[None]:
        try:
            yield
        except (KazooException, KazooTimeoutError) as exc:
            raise translate(exc, path) from exc

    def call(self, start: Callable[..., Any], *args: Any, path: str = "") -> Any:
        """Run a kazoo ``*_async`` call bounded by the operation timeout; fail fast when disconnected."""
        if not self.client.connected:
            raise RegistryUnavailable(f"ZooKeeper not connected (state {self.client.state})")
        with self.timed(getattr(start, "__name__", "call").removesuffix("_async")), self.translated(path):
            return start(*args).get(timeout=self.operation_timeout)

    @contextmanager
    def timed(self, operation: str) -> Iterator[None]:
        timer = self.timer
        if timer is None:
            yield
            return
        began = time.perf_counter()
        try:
            yield
        finally:
            timer(operation, time.perf_counter() - began)

    def wait(self, request: Any, path: str = "") -> Any:
        """The answer of an already sent ``*_async`` request, bounded by the operation timeout."""
        with self.translated(path):
            return request.get(timeout=self.operation_timeout)


class KazooTree:
    """The ``Tree`` seam over a ``ZooKeeperConnection``."""

    def __init__(self, connection: ZooKeeperConnection):
        self.connection = connection
        self._client = connection.client
        self._multi_read = True  # until the server answers Unimplemented
        self._watches = SharedWatches(self._client, connection.operation_timeout)

    def get(self, path: str) -> tuple[bytes, int] | None:
        check_path(path)
        try:
            data, stat = self.connection.call(self._client.get_async, path, path=path)
        except NotFound:
            return None
        return (data or b""), stat.version

    def children(self, path: str) -> list[str]:
        check_path(path)
        try:
            return sorted(self.connection.call(self._client.get_children_async, path, path=path))
        except NotFound:
            return []

    def children_many(self, paths: list[str]) -> list[list[str]]:
        """``multiRead`` ``getChildren`` requests of ``MULTI_READ_PATHS`` paths each, pipelined (10,000
        job nodes: 20 requests instead of 10,000); single calls, pipelined, without ``multiRead``."""
        return self._batch_read(
            paths, "children_many", lambda: self._multi_children(paths), lambda: self._single_children(paths)
        )

    def _multi_children(self, paths: list[str]) -> list[list[str]]:
        answers = self._read_many(paths, multiread.MultiChildren)
        return [sorted(answer) if answer is not None else [] for answer in answers]

    def _single_children(self, paths: list[str]) -> list[list[str]]:
        with self.connection.translated():
            pending = [self._client.get_children_async(path) for path in paths]
        found: list[list[str]] = []
        for path, request in zip(paths, pending, strict=True):
            try:
                found.append(sorted(self.connection.wait(request, path)))
            except NotFound:
                found.append([])
        return found

    def exists(self, path: str) -> bool:
        check_path(path)
        return self.connection.call(self._client.exists_async, path, path=path) is not None

    def ensure(self, path: str) -> None:
        check_path(path)
        if not self._client.connected:
            raise RegistryUnavailable("ZooKeeper not connected")
        with self.connection.translated(path):
            self._client.ensure_path(path)

    def descendants(self, path: str) -> list[str]:
        found: list[str] = []
        for child in self.children(path):
            full = f"{path.rstrip('/')}/{child}"
            found.extend(self.descendants(full))
            found.append(full)
        return found

    def child_count(self, path: str) -> int:
        check_path(path)
        stat = self.connection.call(self._client.exists_async, path, path=path)
        return int(stat.numChildren) if stat is not None else 0

    def get_many(self, paths: list[str]) -> list[tuple[bytes, int] | None]:
        """``multiRead`` requests of ``MULTI_READ_PATHS`` paths each, pipelined (see ``multiread``);
        single gets, pipelined, on a server without ``multiRead``."""
        return self._batch_read(
            paths, "get_many", lambda: self._multi_get(paths), lambda: self._single_gets(paths)
        )

    def _batch_read(
        self, paths: list[str], timer: str, multi: Callable[[], list[Any]], single: Callable[[], list[Any]]
    ) -> list[Any]:
        """The frame of every batch read: ``multi`` (``multiRead`` requests) or, on a server without
        ``multiRead`` (before 3.6), ``single`` (one request per path, pipelined) from then on."""
        self._require_connected()
        if not paths:
            return []
        for path in paths:
            check_path(path)
        with self.connection.timed(timer):
            if self._multi_read:
                try:
                    return multi()
                except UnimplementedError:
                    log.warning("this ZooKeeper has no multiRead (3.6+): reading node by node")
                    self._multi_read = False
            return single()

    def _multi_get(self, paths: list[str]) -> list[tuple[bytes, int] | None]:
        return self._read_many(paths, multiread.MultiRead)

    def get_many_stamped(self, paths: list[str]) -> list[Stamped | None]:
        """``get_many`` keeping each answer's ctime and mtime (the same requests on the wire)."""
        return self._batch_read(
            paths,
            "get_many",
            lambda: self._read_many(paths, multiread.MultiReadStamped),
            lambda: self._single_gets(paths, stamped=True),
        )

    def _read_many(self, paths: list[str], kind: type[multiread.MultiRead]) -> list[Any]:
        """``paths`` read with multiRead (``kind``: data, children, data with stat times), chunks
        pipelined; ``UnimplementedError`` goes up so the caller can fall back to single reads."""
        chunks = [paths[i : i + MULTI_READ_PATHS] for i in range(0, len(paths), MULTI_READ_PATHS)]
        with self.connection.translated():
            pending = [multiread.send(self._client, chunk, kind) for chunk in chunks]
        found: list[Any] = []
        for chunk, request in zip(chunks, pending, strict=True):
            try:
                answers = request.get(timeout=self.connection.operation_timeout)
            except UnimplementedError:
                raise
            except (KazooException, KazooTimeoutError) as exc:
                raise translate(exc, chunk[0]) from exc
            for path, answer in zip(chunk, answers, strict=True):
                if isinstance(answer, Exception):
                    raise translate(answer, path)
                found.append(answer)
        return found

    def _single_gets(self, paths: list[str], stamped: bool = False) -> list[Any]:
        with self.connection.translated():
            pending = [self._client.get_async(path) for path in paths]
        found: list[Any] = []
        for path, request in zip(paths, pending, strict=True):
            try:
                data, stat = self.connection.wait(request, path)
            except NotFound:
                found.append(None)
            else:
                data = data or b""
                found.append(
                    Stamped(data, stat.version, stat.ctime / 1000, stat.mtime / 1000)
                    if stamped
                    else (data, stat.version)
                )
        return found

    def commit(self, ops: list[Op]) -> None:
        if not ops:
            return
        check_write(ops)
        results = self.connection.call(self._transaction(ops).commit_async)
        _raise_first_failure(ops, results)

    def commit_many(self, batches: list[list[Op]]) -> list[Exception | None]:
        """Pipelined multis: all are sent, then all answers are collected (one write each)."""
        self._require_connected()
        with self.connection.timed("commit_many"):
            return self._commit_many(batches)

    def _commit_many(self, batches: list[list[Op]]) -> list[Exception | None]:
        pending = []
        for ops in batches:
            try:
                check_write(ops)
                pending.append(self._transaction(ops).commit_async() if ops else None)
            except Exception as exc:
                pending.append(translate(exc))
        outcomes: list[Exception | None] = []
        for ops, request in zip(batches, pending, strict=True):
            if request is None or isinstance(request, Exception):
                outcomes.append(request)
                continue
            try:
                _raise_first_failure(ops, self.connection.wait(request))
                outcomes.append(None)
            except Exception as exc:
                outcomes.append(exc)
        return outcomes

    def watch(self, path: str, callback: Watcher) -> Callable[[], None]:
        """One subtree cache per path, shared by every subscriber of this tree (``SharedWatches``)."""
        return self._watches.watch(check_path(path), callback)

    def watch_children(self, path: str, callback: Watcher) -> Callable[[], None]:
        self.ensure(path)
        return watch_children(self._client, check_path(path), callback)

    def _require_connected(self) -> None:
        if not self._client.connected:
            raise RegistryUnavailable(f"ZooKeeper not connected (state {self._client.state})")

    def _transaction(self, ops: list[Op]) -> Any:
        transaction = self._client.transaction()
        for op in ops:
            if isinstance(op, Create):
                transaction.create(op.path, op.data)
            elif isinstance(op, SetData):
                transaction.set_data(op.path, op.data, op.version)
            elif isinstance(op, Delete):
                transaction.delete(op.path, op.version)
            elif isinstance(op, Check):
                transaction.check(op.path, op.version)  # version -1: "exists", checked atomically
        return transaction


def _raise_first_failure(ops: list[Op], results: list[Any]) -> None:
    for op, result in zip(ops, results, strict=False):
        if isinstance(result, KazooException) and not _is_rollback(result):
            raise translate(result, op.path)


def _is_rollback(result: KazooException) -> bool:
    """Ops after the failing one report RuntimeInconsistency/RolledBack; the real cause is earlier."""
    return type(result).__name__ in ("RuntimeInconsistency", "RolledBackError")
