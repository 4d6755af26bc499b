"""Schema migrations (Alembic), applied when the trace starts: never a manual step.

The revisions live in ``trace/migrations/versions``; the applied one is recorded in the table
``TRACE_SCHEMA_VERSION`` (so an existing database of the original, whose tables have the same names,
is taken over: revision 0001 creates only what is missing).
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine

VERSION_TABLE = "TRACE_SCHEMA_VERSION"
SCRIPTS = Path(__file__).with_name("migrations")


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(SCRIPTS))
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
        return context.get_current_revision()
