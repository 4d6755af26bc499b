"""Console sessions and 3.x access tokens, signed so that every scheduler instance accepts them.

A token is ``{payload}.{mac}``: the payload is base64url JSON ``{"u": user, "r": role, "v": via,
"e": expiry, "n": nonce}``, the MAC an HMAC-SHA256 under a key derived from the shared signing key
(``registry.console_keys``: one per ZooKeeper namespace, so one for every instance of a cluster)
and the account's configured secret, so a changed password or a removed account ends its sessions
on every instance. A token is accepted while its MAC matches (compared in constant time), it has
not expired, its account still exists with the same role, and it was not logged out. The CSRF
token of a console session is an HMAC of its nonce: any instance can check it.

Logout records the nonce where every instance looks (``KeySource.log_out``). Without ZooKeeper
(an API built in a test) ``LocalKeys`` keeps the key and the logouts in the process.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from .identity import Account, Identity, Role

MAX_TOKEN = 1024
VIAS = ("session", "token")


class KeySource(Protocol):
    def signing_key(self) -> bytes: ...
    def is_logged_out(self, nonce: str) -> bool: ...
    def log_out(self, nonce: str, expiry: int, now: float) -> None: ...


class LocalKeys:
    """A key and logouts of this process only."""

    def __init__(self) -> None:
        self._key = secrets.token_bytes(32)
        self._logouts: dict[str, int] = {}
        self._lock = threading.Lock()

    def signing_key(self) -> bytes:
        return self._key

    def is_logged_out(self, nonce: str) -> bool:
        return nonce in self._logouts

    def log_out(self, nonce: str, expiry: int, now: float) -> None:
        with self._lock:
            self._logouts = {n: e for n, e in self._logouts.items() if e >= now}
            self._logouts[nonce] = expiry


@dataclass(frozen=True)
class Session:
    """A console session (cookie) or a 3.x ``accessToken``."""

    token: str
    identity: Identity
    csrf: str
    expires: datetime
    nonce: str


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Sessions:
    def __init__(self, lifetime: timedelta = timedelta(hours=8), keys: KeySource | None = None):
        self.lifetime = lifetime
        self.keys: KeySource = keys or LocalKeys()

    def _mac(self, username: str, secret: str, payload: str) -> str:
        account_key = hmac.new(
            self.keys.signing_key(),
            b"session\0" + username.encode() + b"\0" + hashlib.sha256(secret.encode()).digest(),
            hashlib.sha256,
        ).digest()
        return _b64(hmac.new(account_key, payload.encode("ascii"), hashlib.sha256).digest())

    def _csrf(self, nonce: str) -> str:
        return _b64(hmac.new(self.keys.signing_key(), b"csrf\0" + nonce.encode(), hashlib.sha256).digest())

    def open(self, account: Account, via: str, now: datetime) -> Session:
        expires = now + self.lifetime
        nonce = secrets.token_urlsafe(16)
        fields = {
            "u": account.username,
            "r": account.role.value,
            "v": via,
            "e": int(expires.timestamp()),
            "n": nonce,
        }
        payload = _b64(json.dumps(fields, separators=(",", ":")).encode())
        token = f"{payload}.{self._mac(account.username, account.secret, payload)}"
        identity = Identity(account.username, account.role, via)
        return Session(token, identity, self._csrf(nonce), expires, nonce)

    def find(
        self, token: str, now: datetime, account_named: Callable[[str], Account | None]
    ) -> Session | None:
        """The session behind ``token``, or None (forged, expired, logged out, account changed)."""
        if len(token) > MAX_TOKEN or token.count(".") != 1:
            return None
        payload, mac = token.split(".")
        try:
            fields = json.loads(_unb64(payload))
            username, role, via, expiry, nonce = (fields[k] for k in ("u", "r", "v", "e", "n"))
        except (binascii.Error, ValueError, TypeError, KeyError):
            return None
        if not (isinstance(username, str) and isinstance(nonce, str) and isinstance(expiry, int)):
            return None
        account = account_named(username)
        if account is None or role != account.role.value or via not in VIAS:
            return None
        if not hmac.compare_digest(mac.encode(), self._mac(username, account.secret, payload).encode()):
            return None
        if expiry <= now.timestamp() or self.keys.is_logged_out(nonce):
            return None
        identity = Identity(username, Role(role), via)
        expires = datetime.fromtimestamp(expiry, now.tzinfo)
        return Session(token, identity, self._csrf(nonce), expires, nonce)

    def close(self, session: Session, now: datetime) -> None:
        self.keys.log_out(session.nonce, int(session.expires.timestamp()), now.timestamp())
