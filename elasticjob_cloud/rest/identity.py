"""Who a request is: roles, configured accounts and the identity of one request (no I/O here)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"
    VIEWER = "viewer"


@dataclass(frozen=True)
class Account:
    username: str
    secret: str = field(repr=False)  # a clear password or an argon2/bcrypt hash
    role: Role


@dataclass(frozen=True)
class Identity:
    """The user behind one request; ``via`` is basic, session, token, or open (auth disabled)."""

    username: str
    role: Role
    via: str

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN
