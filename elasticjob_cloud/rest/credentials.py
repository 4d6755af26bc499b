"""Who may use the API: accounts from settings, password checks, sessions, and the failure limiter.

Two roles, as the original's ``root`` and ``guest``: **admin** may do everything, **viewer** may
only read. Accounts come from the original's ``conf/auth.properties`` (``root.username``,
``root.password``, ``guest.username``, ``guest.password``), then from the 3.x settings keys
``auth_username`` / ``auth_password`` (admin) and this project's ``auth_viewer_username`` /
``auth_viewer_password`` (viewer), later sources winning.

A password may be given in clear or as an argon2 (``$argon2id$…``) or bcrypt (``$2b$…``) hash.
Clear passwords are compared as SHA-256 digests with ``hmac.compare_digest`` (constant time, also
across lengths); an unknown user name costs the same check against a stand-in secret, so timing
does not tell which names exist. A verified hash is remembered (keyed by an HMAC under a per-process
key) so HTTP Basic on every curl call does not pay argon2's cost each time.

No Flask here: ``rest.auth`` applies these decisions to requests.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from ..settings import Settings, SettingsError, parse_properties
from .identity import Account, Identity, Role
from .sessions import Sessions

__all__ = ["Account", "Identity", "Role", "Sessions"]

DEFAULT_AUTH_FILE = Path("conf/auth.properties")


def _digest(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8")).digest()


def _hash_kind(secret: str) -> str:
    if secret.startswith("$argon2"):
        return "argon2"
    if secret[:4] in ("$2a$", "$2b$", "$2y$"):
        return "bcrypt"
    return "plain"


def check_password(secret: str, password: str) -> bool:
    """``password`` against a clear or hashed ``secret``; never raises on a malformed hash."""
    kind = _hash_kind(secret)
    if kind == "argon2":
        from argon2 import PasswordHasher
        from argon2.exceptions import Argon2Error, InvalidHashError

        try:
            return bool(PasswordHasher().verify(secret, password))
        except (Argon2Error, InvalidHashError, ValueError):
            return False
    if kind == "bcrypt":
        import bcrypt

        try:
            return bool(bcrypt.checkpw(password.encode("utf-8"), secret.encode("utf-8")))
        except ValueError:
            return False
    return hmac.compare_digest(_digest(secret), _digest(password))


def hash_password(password: str) -> str:
    """An argon2id hash for ``auth_password`` (``elasticjob-cloud hash-password``)."""
    from argon2 import PasswordHasher

    return PasswordHasher().hash(password)


class Accounts:
    """The configured accounts; ``verify`` is the one password check."""

    _CACHE_SIZE = 256

    def __init__(self, accounts: list[Account]):
        if not accounts:
            raise SettingsError("authentication needs at least one account")
        names = [account.username for account in accounts]
        if len(set(names)) != len(names):
            raise SettingsError("the admin and the viewer account must have different user names")
        self.accounts = tuple(accounts)
        self._cache_key = secrets.token_bytes(32)
        self._verified: OrderedDict[bytes, Account] = OrderedDict()
        self._lock = threading.Lock()

    def named(self, username: str) -> Account | None:
        """The account of ``username`` (a session's user, already authenticated), or None."""
        return next((account for account in self.accounts if account.username == username), None)

    @property
    def has_admin(self) -> bool:
        return any(account.role is Role.ADMIN for account in self.accounts)

    def verify(self, username: str, password: str) -> Account | None:
        key = hmac.new(self._cache_key, f"{username}\0{password}".encode(), hashlib.sha256).digest()
        with self._lock:
            cached = self._verified.get(key)
        if cached is not None:
            return cached
        found = None
        for account in self.accounts:  # every name compared, in constant time
            if hmac.compare_digest(_digest(account.username), _digest(username)):
                found = account
        secret = found.secret if found else self.accounts[0].secret
        matches = check_password(secret, password)
        if found is None or not matches:
            return None
        if _hash_kind(found.secret) != "plain":
            with self._lock:
                self._verified[key] = found
                while len(self._verified) > self._CACHE_SIZE:
                    self._verified.popitem(last=False)
        return found


def _pair(values: dict[str, str], user_key: str, password_key: str, role: Role) -> Account | None:
    username, password = values.get(user_key, "").strip(), values.get(password_key, "")
    if not username and not password:
        return None
    if not username or not password:
        raise SettingsError(f"{user_key} and {password_key} must be given together")
    return Account(username, password, role)


def configured_accounts(settings: Settings) -> list[Account]:
    """Accounts from ``auth.properties`` (``auth_file``, default conf/auth.properties) and settings."""
    path = Path(settings.auth_file) if settings.auth_file else DEFAULT_AUTH_FILE
    file_values: dict[str, str] = {}
    if path.is_file():
        file_values = parse_properties(path.read_text())
    elif settings.auth_file:
        raise SettingsError(f"auth_file {path} not found")
    by_role: dict[Role, Account] = {}
    for found in (
        _pair(file_values, "root.username", "root.password", Role.ADMIN),
        _pair(file_values, "guest.username", "guest.password", Role.VIEWER),
        _pair(vars_of(settings), "auth_username", "auth_password", Role.ADMIN),
        _pair(vars_of(settings), "auth_viewer_username", "auth_viewer_password", Role.VIEWER),
    ):
        if found is not None:
            by_role[found.role] = found
    return list(by_role.values())


def vars_of(settings: Settings) -> dict[str, str]:
    return {key: str(getattr(settings, key)) for key in settings.__dataclass_fields__}


def auth_switch(settings: Settings) -> bool | None:
    """``auth_enabled``: True, False, or None when not set (each command has its own default)."""
    value = settings.auth_enabled.strip().lower()
    if not value:
        return None
    if value in ("true", "yes", "on", "1"):
        return True
    if value in ("false", "no", "off", "0"):
        return False
    raise SettingsError(f"setting auth_enabled must be true or false, got {settings.auth_enabled!r}")


class FailureLimiter:
    """At most ``limit`` failed logins per address within ``window``; then 429 until the oldest ages out."""

    def __init__(
        self, limit: int = 5, window: timedelta = timedelta(seconds=60), max_addresses: int = 10_000
    ):
        self.limit = limit
        self.window = window
        self.max_addresses = max_addresses
        self._failures: OrderedDict[str, list[datetime]] = OrderedDict()
        self._lock = threading.Lock()

    def _recent(self, address: str, now: datetime) -> list[datetime]:
        times = [t for t in self._failures.get(address, []) if now - t < self.window]
        if times:
            self._failures[address] = times
        else:
            self._failures.pop(address, None)
        return times

    def retry_after(self, address: str, now: datetime) -> float:
        """Seconds this address must wait before its next attempt; 0 when it may try now."""
        with self._lock:
            times = self._recent(address, now)
            if len(times) < self.limit:
                return 0.0
            return max((times[-self.limit] + self.window - now).total_seconds(), 0.001)

    def failed(self, address: str, now: datetime) -> None:
        with self._lock:
            times = self._recent(address, now)
            times.append(now)
            self._failures[address] = times
            self._failures.move_to_end(address)
            while len(self._failures) > self.max_addresses:
                self._failures.popitem(last=False)

    def succeeded(self, address: str) -> None:
        with self._lock:
            self._failures.pop(address, None)


@dataclass
class Authenticator:
    """Everything ``rest.auth`` needs when authentication is on."""

    accounts: Accounts
    sessions: Sessions = field(default_factory=Sessions)
    limiter: FailureLimiter = field(default_factory=FailureLimiter)


def build_authenticator(settings: Settings, default_on: bool) -> Authenticator | None:
    """An ``Authenticator`` when authentication is on (``auth_enabled``, else ``default_on``), else None.

    On with no admin account configured is a ``SettingsError`` naming the keys to set.
    """
    switch = auth_switch(settings)
    enabled = default_on if switch is None else switch
    if not enabled:
        return None
    accounts = configured_accounts(settings)
    if not any(account.role is Role.ADMIN for account in accounts):
        raise SettingsError(
            "authentication is on but no admin account is configured: set auth_username and"
            " auth_password (or root.username/root.password in conf/auth.properties),"
            " or set auth_enabled=false explicitly to run without authentication"
        )
    return Authenticator(Accounts(accounts))
