"""The console sessions' shared signing key and logouts, so a session opened on one scheduler
instance is valid on every other one (the standby that becomes leader, the one behind a balancer).

Nodes (this module is their only writer):

* ``/config/console_secret``: 32 random bytes, hex. Created by whichever instance needs it first
  (a ``Create`` that loses the race reads the winner's); never changed afterwards. Whoever can read
  the namespace can forge a session, so protect it like the rest of it (``zk_digest``). It is never
  logged.
* ``/state/console_logouts/{expiry}-{nonce}``: one empty node per session logged out before it
  expired (``expiry`` in epoch seconds). Every instance watches the children and refuses those
  sessions; a logout removes the entries whose session has expired anyway, so the list stays as
  short as the logouts of the last session lifetime.
"""

from __future__ import annotations

import logging
import re
import secrets
import threading
from collections.abc import Callable

from ..exceptions import AlreadyExists, NotFound, RegistryUnavailable
from .tree import Create, Delete, Tree

log = logging.getLogger(__name__)

SECRET = "/config/console_secret"
LOGOUTS = "/state/console_logouts"
_ENTRY = re.compile(r"^(\d{1,12})-([A-Za-z0-9_-]{8,64})$")


class ConsoleKeys:
    def __init__(self, tree: Tree):
        self.tree = tree
        self._key: bytes | None = None
        self._lock = threading.Lock()
        self._logouts: dict[str, int] | None = None  # nonce → expiry; None: to be (re)read
        self._generation = 0  # bumped by every change heard: a read that overlapped one is not kept
        self._unwatch: Callable[[], None] | None = None

    def signing_key(self) -> bytes:
        """The shared key, created here if no instance made it yet (cached once read)."""
        with self._lock:
            if self._key is None:
                self._key = self._read_or_create()
            return self._key

    def _read_or_create(self) -> bytes:
        found = self._read()
        if found is not None:
            return found
        self.tree.ensure(SECRET.rsplit("/", 1)[0])
        try:
            self.tree.commit([Create(SECRET, secrets.token_hex(32).encode())])
            log.info("created the console sessions' signing key at %s", SECRET)
        except AlreadyExists:
            pass  # another instance made it first: use theirs
        created = self._read()
        if created is None:
            raise RegistryUnavailable(f"{SECRET} is unreadable: expected 64 hex digits")
        return created

    def _read(self) -> bytes | None:
        found = self.tree.get(SECRET)
        if found is None:
            return None
        try:
            key = bytes.fromhex(found[0].decode("ascii"))
        except (UnicodeDecodeError, ValueError):
            key = b""
        if len(key) < 32:
            raise RegistryUnavailable(f"{SECRET} is unreadable: expected 64 hex digits")
        return key

    # ---- logouts ------------------------------------------------------------------------------

    def _stale(self, _path: str | None) -> None:
        self._generation += 1
        self._logouts = None  # re-read at the next check (a watcher must return at once)

    def is_logged_out(self, nonce: str) -> bool:
        logouts = self._logouts
        if logouts is None:
            with self._lock:
                if self._unwatch is None:
                    self._unwatch = self.tree.watch_children(LOGOUTS, self._stale)
                generation = self._generation
                logouts = self._read_logouts()
                if generation == self._generation:
                    self._logouts = logouts
        return nonce in logouts

    def _read_logouts(self) -> dict[str, int]:
        found: dict[str, int] = {}
        for name in self.tree.children(LOGOUTS):
            match = _ENTRY.match(name)
            if match:
                found[match.group(2)] = int(match.group(1))
        return found

    def log_out(self, nonce: str, expiry: int, now: float) -> None:
        """Refuse the session ``nonce`` (valid until ``expiry``) on every instance from now on."""
        if not _ENTRY.match(f"{expiry}-{nonce}"):
            raise ValueError("not a session nonce")
        self.tree.ensure(LOGOUTS)
        try:
            self.tree.commit([Create(f"{LOGOUTS}/{expiry}-{nonce}")])
        except AlreadyExists:
            pass
        self._stale(None)
        for name in self.tree.children(LOGOUTS):
            match = _ENTRY.match(name)
            if match and int(match.group(1)) < now:
                try:
                    self.tree.commit([Delete(f"{LOGOUTS}/{name}")])
                except NotFound:
                    pass

    def stop(self) -> None:
        with self._lock:
            if self._unwatch is not None:
                self._unwatch()
                self._unwatch = None
