"""Trace fixtures: one private PostgreSQL per test session (Debian's binaries, a temp dir, stopped by
PID), a fresh database per test; the contract suite runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from elasticjob_cloud.trace.pgserver import PostgresServer


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgresServer]:
    with PostgresServer() as server:
        yield server


def fresh_pg_database(server: PostgresServer) -> str:
    import psycopg

    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(
        f"host={server.host} port={server.port} user=postgres dbname=postgres", autocommit=True
    ) as c:
        c.execute(f'CREATE DATABASE "{name}"')
    return f"postgresql+psycopg://postgres@{server.host}:{server.port}/{name}"


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'trace.db'}"
    return fresh_pg_database(request.getfixturevalue("pg_server"))


@pytest.fixture
def db_engine(db_url):
    from elasticjob_cloud.trace.database import open_engine

    engine = open_engine(db_url)
    yield engine
    engine.dispose()


from tests.scheduler.conftest import packed_app, record_dir  # noqa: E402, F401  (the end-to-end fixtures)
