"""Signed sessions (``rest.sessions``): what makes a token valid, and everything that does not."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from elasticjob_cloud.rest.identity import Account, Role
from elasticjob_cloud.rest.sessions import LocalKeys, Sessions

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
ADMIN = Account("admin", "pw", Role.ADMIN)
VIEWER = Account("viewer", "pw2", Role.VIEWER)


def accounts(*known: Account):
    return {a.username: a for a in known}.get


def test_a_session_is_found_by_another_sessions_object_with_the_same_key():
    keys = LocalKeys()
    here, there = Sessions(keys=keys), Sessions(keys=keys)
    session = here.open(ADMIN, "session", NOW)
    found = there.find(session.token, NOW + timedelta(hours=7), accounts(ADMIN, VIEWER))
    assert found is not None and found.identity == session.identity and found.csrf == session.csrf
    assert Sessions().find(session.token, NOW, accounts(ADMIN)) is None  # another key
    assert here.open(ADMIN, "session", NOW).csrf != session.csrf  # one CSRF token per session


def test_expired_logged_out_or_changed_accounts_end_a_session():
    sessions = Sessions(lifetime=timedelta(hours=8))
    session = sessions.open(ADMIN, "session", NOW)
    assert sessions.find(session.token, NOW + timedelta(hours=8), accounts(ADMIN)) is None
    assert sessions.find(session.token, NOW, accounts(VIEWER)) is None  # the account is gone
    assert sessions.find(session.token, NOW, accounts(Account("admin", "new-pw", Role.ADMIN))) is None
    assert sessions.find(session.token, NOW, accounts(Account("admin", "pw", Role.VIEWER))) is None
    sessions.close(session, NOW)
    assert sessions.find(session.token, NOW, accounts(ADMIN)) is None
    other = sessions.open(ADMIN, "token", NOW)
    assert sessions.find(other.token, NOW, accounts(ADMIN)) is not None  # only that one ended


def test_malformed_tokens_are_refused_without_error():
    sessions = Sessions()
    good = sessions.open(VIEWER, "token", NOW).token
    payload, mac = good.split(".")
    for token in (
        "",
        ".",
        "a.b.c",
        "x" * 2000,
        f"{payload}.",
        f".{mac}",
        f"{payload}x.{mac}",
        f"{payload}.{mac[:-1]}{'B' if mac.endswith('A') else 'A'}",
        "%%%.%%%",
        "e30.AAAA",
    ):
        assert sessions.find(token, NOW, accounts(ADMIN, VIEWER)) is None, token
