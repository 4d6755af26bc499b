"""Leader election among scheduler instances, in ZooKeeper at ``/ha/election`` (the original's path).

Each candidate creates an ephemeral sequential node ``candidate-{token}-{seq}`` whose data is its
identity (``host:port``); the lowest sequence leads. A candidate watches only its predecessor, so a
departure wakes one candidate, not all of them (no herd). ``token`` lets a candidate recognise its
own node after a create whose answer was lost with the connection (kazoo's lock recipe does the
same), so it never leaves a ghost candidate ahead of everyone.

Safety over availability: leadership is revoked as soon as the connection is SUSPENDED (this
instance can no longer be sure it still holds the lowest node) and when the session is LOST. After
a reconnection with the same session the node is still ours and the election is simply re-checked;
after a lost session a fresh node is created, at the end of the line.

All ZooKeeper work and both callbacks run on one dedicated thread, in order: kazoo's threads only
enqueue, so a slow ``on_elected`` never blocks kazoo and the callbacks never run concurrently.
``on_elected`` and ``on_revoked`` alternate strictly; an exception in either is logged and the
election goes on (``on_elected`` that raises still counts as elected: ``on_revoked`` follows later).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from kazoo.protocol.states import KazooState

from ..core import paths
from ..exceptions import ElasticJobError, NotFound
from .zookeeper import ZooKeeperConnection

log = logging.getLogger(__name__)

_CHECK, _SUSPENDED, _LOST, _CONNECTED, _STOP = "check", "suspended", "lost", "connected", "stop"
_SEQUENCE_DIGITS = 10  # ZooKeeper's sequential suffix


def _sequence(name: str) -> int | None:
    suffix = name[-_SEQUENCE_DIGITS:]
    return int(suffix) if len(name) > _SEQUENCE_DIGITS and suffix.isdigit() else None


def sorted_candidates(children: list[str]) -> list[str]:
    """Candidate node names, lowest sequence first (other names are ignored)."""
    numbered = [(seq, name) for name in children if (seq := _sequence(name)) is not None]
    return [name for _, name in sorted(numbered)]


class LeaderElection:
    """One candidacy of this process; ``start()`` enters the election, ``stop()`` withdraws."""

    def __init__(
        self,
        connection: ZooKeeperConnection,
        identity: str,
        on_elected: Callable[[], None],
        on_revoked: Callable[[], None],
        retry_interval: float = 1.0,
        on_disconnected: Callable[[], None] | None = None,
    ):
        self.identity = identity
        self._connection = connection
        self._client = connection.client
        self._on_elected = on_elected
        self._on_revoked = on_revoked
        # kazoo's thread, at once on SUSPENDED or LOST while leading (must not block): what cannot
        # wait for the revocation's queue (the Mesos driver), see ``confirmed``
        self._on_disconnected = on_disconnected
        self._retry_interval = retry_interval
        self._prefix = f"{paths.ELECTION}/candidate-{uuid.uuid4().hex}-"
        self._events: queue.Queue[str] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name=f"election-{identity}", daemon=True)
        self._disconnects = 0  # counted by kazoo's listener: a leader is one only within one epoch
        # Below: only the election thread writes these.
        self._node: str | None = None
        self._session: Any = None
        self._elected = False
        self._epoch = -1
        self._retry_at: float | None = None

    # ---- public ------------------------------------------------------------------------------

    def start(self) -> LeaderElection:
        self._client.add_listener(self._on_state)
        self._thread.start()
        self._events.put(_CHECK)
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Withdraw: delete the node, call ``on_revoked`` if leading. Safe to call from a callback."""
        self._client.remove_listener(self._on_state)
        self._events.put(_STOP)
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join(timeout)

    @property
    def is_leader(self) -> bool:
        """Elected and not disconnected since: turns False at once on SUSPENDED or LOST, even while
        the election thread is still busy (e.g. inside ``on_elected``) and has not revoked yet."""
        return self._elected and self._epoch == self._disconnects

    def confirmed(self) -> bool:
        """Still the leader, checked with ZooKeeper now: elected, not disconnected since, and a round
        trip in the session that created this leadership's node finds that node.

        ``is_leader`` alone cannot tell a process resumed after a pause (SIGSTOP) past its session
        timeout: kazoo has not yet read that its session is gone. This round trip cannot succeed
        then (the server closed the expired session's connection; a new session no longer has the
        ephemeral node), so an action no ZooKeeper transaction fences, like a SUBSCRIBE to the Mesos
        master that would take the framework from the true leader, asks this first."""
        node, session, epoch = self._node, self._session, self._disconnects
        if not self.is_leader or node is None or self._client.client_id != session:
            return False
        try:
            found = self._connection.call(self._client.exists_async, node, path=node)
        except Exception as exc:  # not reachable, expired, timed out: not confirmed
            log.warning("election %s: leadership not confirmed: %s", self.identity, exc)
            return False
        return (
            bool(found)
            and self.is_leader
            and epoch == self._disconnects
            and self._client.client_id == session
        )

    @property
    def candidate_path(self) -> str | None:
        return self._node

    def leader_identity(self) -> str | None:
        """The identity stored in the lowest candidate node; None when nobody is a candidate."""
        call = self._connection.call
        for name in sorted_candidates(self._children()):
            path = f"{paths.ELECTION}/{name}"
            try:
                data, _ = call(self._client.get_async, path, path=path)
            except NotFound:
                continue  # withdrew meanwhile: the next one leads
            return (data or b"").decode()
        return None

    # ---- kazoo's threads: enqueue only -------------------------------------------------------

    def _on_state(self, state: str) -> None:
        if state == KazooState.CONNECTED:
            self._events.put(_CONNECTED)
        elif state == KazooState.SUSPENDED:
            self._disconnects += 1
            self._events.put(_SUSPENDED)
            self._disconnected()
        elif state == KazooState.LOST:
            self._disconnects += 1
            self._events.put(_LOST)
            self._disconnected()

    def _disconnected(self) -> None:
        if self._elected and self._on_disconnected is not None:
            try:
                self._on_disconnected()
            except Exception:
                log.exception("election %s: on_disconnected raised", self.identity)

    def _on_watch(self, event: Any) -> None:
        self._events.put(_CHECK)

    # ---- the election thread -----------------------------------------------------------------

    def _run(self) -> None:
        while True:
            timeout = None if self._retry_at is None else max(0.0, self._retry_at - time.monotonic())
            try:
                event = self._events.get(timeout=timeout)
            except queue.Empty:
                event = _CHECK
            if event == _STOP:
                self._withdraw()
                return
            try:
                self._handle(event)
            except ElasticJobError as exc:
                log.warning("election %s: %s; retrying in %ss", self.identity, exc, self._retry_interval)
                self._retry_later()
            except Exception:
                log.exception("election %s failed; retrying in %ss", self.identity, self._retry_interval)
                self._retry_later()

    def _retry_later(self) -> None:
        self._retry_at = time.monotonic() + self._retry_interval

    def _handle(self, event: str) -> None:
        if event == _SUSPENDED:
            self._revoke()
        elif event == _LOST:
            self._revoke()
            self._node = None  # ephemeral: gone with the session
        else:
            if event == _CONNECTED and self._node is not None and self._client.client_id != self._session:
                self._revoke()
                self._node = None
            self._check()

    def _check(self) -> None:
        self._retry_at = None
        epoch = self._disconnects  # a disconnection after this point voids what we read
        if not self._client.connected:
            return  # CONNECTED will bring us back
        for _ in range(5):
            if self._node is None:
                self._node = self._find_or_create()
            candidates = sorted_candidates(self._children())
            mine = self._node.rsplit("/", 1)[-1]
            if mine not in candidates:
                log.warning("election %s: node %s vanished; re-entering", self.identity, self._node)
                self._revoke()
                self._node = None
                continue
            index = candidates.index(mine)
            if index == 0:
                if epoch == self._disconnects:  # else the queued SUSPENDED/LOST comes next
                    self._elect(epoch)
                return
            self._revoke()
            predecessor = f"{paths.ELECTION}/{candidates[index - 1]}"
            if self._connection.call(
                self._client.exists_async, predecessor, self._on_watch, path=predecessor
            ):
                return  # woken when the predecessor goes
        self._retry_later()

    def _find_or_create(self) -> str:
        call = self._connection.call
        call(self._client.ensure_path_async, paths.ELECTION, path=paths.ELECTION)
        token = self._prefix.rsplit("/", 1)[-1]
        self._session = self._client.client_id
        for name in self._children():
            if name.startswith(token):
                return f"{paths.ELECTION}/{name}"  # created by an attempt whose answer was lost
        created = call(
            self._client.create_async,
            self._prefix,
            self.identity.encode(),
            None,
            True,
            True,
            path=self._prefix,
        )
        log.info("election %s: candidate %s", self.identity, created)
        return str(created)

    def _children(self) -> list[str]:
        try:
            return list(self._connection.call(self._client.get_children_async, paths.ELECTION))
        except NotFound:
            return []

    def _withdraw(self) -> None:
        self._revoke()
        node, self._node = self._node, None
        if node is None or not self._client.connected:
            return
        try:
            self._connection.call(self._client.delete_async, node, path=node)
        except NotFound:
            pass
        except Exception as exc:  # the node is ephemeral: the session's end removes it anyway
            log.warning("election %s: could not delete %s: %s", self.identity, node, exc)

    def _elect(self, epoch: int) -> None:
        if not self._elected:
            log.info("election %s: elected leader", self.identity)
            self._epoch = epoch
            self._elected = True
            self._deliver(self._on_elected, "on_elected")

    def _revoke(self) -> None:
        if self._elected:
            log.info("election %s: leadership revoked", self.identity)
            self._elected = False
            self._deliver(self._on_revoked, "on_revoked")

    def _deliver(self, callback: Callable[[], None], name: str) -> None:
        try:
            callback()
        except Exception:
            log.exception("election %s: %s raised", self.identity, name)
