"""Alembic environment: runs on the connection ``trace.migrate.upgrade`` hands in."""

from alembic import context

from elasticjob_cloud.trace.migrate import VERSION_TABLE

connection = context.config.attributes["connection"]
context.configure(connection=connection, version_table=VERSION_TABLE, transactional_ddl=True)
with context.begin_transaction():
    context.run_migrations()
