"""Where the event trace lives: settings → SQLAlchemy URL → an engine whose schema is up to date.

``event_trace_rdb_url`` takes a SQLAlchemy URL (``sqlite:///…``, ``postgresql+psycopg://…``,
``mysql+pymysql://…``). The original's JDBC form still works: ``jdbc:postgresql://h:p/db`` and
``jdbc:mysql://h:p/db`` with ``event_trace_rdb_username`` / ``_password`` are translated (as there,
a JDBC URL without a username leaves the trace off). Tables are created when missing and later
changes are Alembic revisions, applied at start (``trace/migrations``).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from sqlalchemy import Engine, Insert, Table, create_engine, event
from sqlalchemy.dialects import mysql, postgresql, sqlite
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from ..exceptions import InvalidConfig

log = logging.getLogger(__name__)

JDBC_DRIVERS = {"postgresql": "postgresql+psycopg", "mysql": "mysql+pymysql", "mariadb": "mysql+pymysql"}
CONNECT_TIMEOUT = 5  # seconds: a database that does not answer must not hold the writer long
STATEMENT_TIMEOUT_MS = 30000


def trace_url(url: str, username: str = "", password: str = "") -> URL | None:
    """The SQLAlchemy URL of the settings, or None when the trace is off."""
    url = url.strip()
    if not url:
        return None
    if url.startswith("jdbc:"):
        if not username:
            log.warning("event trace off: a JDBC event_trace_rdb_url needs event_trace_rdb_username")
            return None
        return _from_jdbc(url, username, password)
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise InvalidConfig.field("event_trace_rdb_url", f"not a database URL: {exc}") from None
    if username and not parsed.username:
        parsed = parsed.set(username=username, password=password or None)
    return parsed


def _from_jdbc(url: str, username: str, password: str) -> URL:
    rest = url.removeprefix("jdbc:")
    kind = rest.split(":", 1)[0]
    driver = JDBC_DRIVERS.get(kind)
    if driver is None:
        raise InvalidConfig.field(
            "event_trace_rdb_url", f"JDBC URL of {kind!r}: only mysql and postgresql are translated"
        )
    parts = urlsplit(rest)
    query = {k: v for k, v in parse_qsl(parts.query) if kind == "postgresql" and k in ("sslmode",)}
    return URL.create(
        driver,
        username=username,
        password=password or None,
        host=parts.hostname or "localhost",
        port=parts.port,
        database=parts.path.lstrip("/") or None,
        query=query,
    )


def sqlite_url(path: str | Path) -> URL:
    return URL.create("sqlite", database=str(Path(path).resolve()))


def open_engine(url: URL | str, migrate: bool = True, pool_size: int = 4) -> Engine:
    """An engine with bounded waits (connect and statement timeouts), its schema migrated."""
    url = make_url(url)
    options: dict[str, Any] = {"pool_pre_ping": True}
    backend = url.get_backend_name()
    if backend == "sqlite":
        options["connect_args"] = {"timeout": 10, "check_same_thread": False}
    elif backend == "postgresql":
        options["connect_args"] = {
            "connect_timeout": CONNECT_TIMEOUT,
            "options": f"-c statement_timeout={STATEMENT_TIMEOUT_MS}",
        }
        options.update(pool_size=pool_size, max_overflow=2, pool_timeout=CONNECT_TIMEOUT)
    elif backend == "mysql":
        options["connect_args"] = {"connect_timeout": CONNECT_TIMEOUT}
        options.update(pool_size=pool_size, max_overflow=2, pool_recycle=3600)
    try:
        engine = create_engine(url, **options)
    except ImportError as exc:  # e.g. mysql+pymysql without PyMySQL installed
        raise InvalidConfig.field(
            "event_trace_rdb_url", f"the driver of {url.drivername} is not installed: {exc}"
        ) from None
    if backend == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    if migrate:
        from .migrate import upgrade

        upgrade(engine)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """WAL: readers (the REST API) never wait for the writer; NORMAL sync is safe under WAL."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def insert_ignoring_duplicates(engine: Engine, table: Table) -> Insert:
    """INSERT that skips rows whose key exists, in the dialect's own words (replays never double)."""
    name = engine.dialect.name
    if name == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing()
    if name == "sqlite":
        return sqlite.insert(table).on_conflict_do_nothing()
    if name in ("mysql", "mariadb"):
        return mysql.insert(table).prefix_with("IGNORE")
    raise InvalidConfig.field("event_trace_rdb_url", f"database {name!r} is not supported")


def insert_updating(engine: Engine, table: Table, columns: tuple[str, ...]) -> Insert:
    """INSERT that, for a row whose key exists, sets ``columns`` to the new values instead (one
    statement: no read, no separate UPDATE)."""
    name = engine.dialect.name
    if name in ("postgresql", "sqlite"):
        dialect = postgresql if name == "postgresql" else sqlite
        statement = dialect.insert(table)
        return statement.on_conflict_do_update(
            index_elements=[table.c.id], set_={c: statement.excluded[c] for c in columns}
        )
    if name in ("mysql", "mariadb"):
        statement = mysql.insert(table)
        return statement.on_duplicate_key_update({c: statement.inserted[c] for c in columns})
    raise InvalidConfig.field("event_trace_rdb_url", f"database {name!r} is not supported")
