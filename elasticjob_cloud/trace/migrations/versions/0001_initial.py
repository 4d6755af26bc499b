"""Initial schema: the original's two trace tables and six statistics tables, and our fire log.

Only what is missing is created, so a database the original filled is taken over as it is (its
statistics tables then keep their duplicates, and get no unique index on ``statistics_time``).
The tables are spelled out here, not imported: a later revision changes ``schema.py`` and adds a
revision; this one must keep creating what it created.

Revision ID: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _statistics(name, *counts):
    return (
        name,
        [
            sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
            *(sa.Column(c, sa.Integer) for c in counts),
            sa.Column("statistics_time", sa.DateTime, nullable=False),
            sa.Column("creation_time", sa.DateTime, nullable=False),
        ],
        [(f"UQ_{name}_TIME", ["statistics_time"], True)],
    )


def _tables():
    return [
        (
            "JOB_EXECUTION_LOG",
            [
                sa.Column("id", sa.String(40), primary_key=True),
                sa.Column("job_name", sa.String(100), nullable=False),
                sa.Column("task_id", sa.String(255), nullable=False),
                sa.Column("hostname", sa.String(255), nullable=False),
                sa.Column("ip", sa.String(50), nullable=False),
                sa.Column("sharding_item", sa.Integer, nullable=False),
                sa.Column("execution_source", sa.String(20), nullable=False),
                sa.Column("failure_cause", sa.String(4000), nullable=True),
                sa.Column("is_success", sa.Integer, nullable=False),
                sa.Column("start_time", sa.DateTime, nullable=True),
                sa.Column("complete_time", sa.DateTime, nullable=True),
            ],
            [
                ("EXECUTION_JOB_START_INDEX", ["job_name", "start_time"], False),
                ("EXECUTION_START_INDEX", ["start_time"], False),
                ("EXECUTION_COMPLETE_INDEX", ["complete_time"], False),
            ],
        ),
        (
            "JOB_STATUS_TRACE_LOG",
            [
                sa.Column("id", sa.String(40), primary_key=True),
                sa.Column("job_name", sa.String(100), nullable=False),
                sa.Column("original_task_id", sa.String(255), nullable=False),
                sa.Column("task_id", sa.String(255), nullable=False),
                sa.Column("slave_id", sa.String(50), nullable=False),
                sa.Column("source", sa.String(50), nullable=False),
                sa.Column("execution_type", sa.String(20), nullable=False),
                sa.Column("sharding_item", sa.String(100), nullable=False),
                sa.Column("state", sa.String(20), nullable=False),
                sa.Column("message", sa.String(4000), nullable=True),
                sa.Column("creation_time", sa.DateTime, nullable=True),
            ],
            [
                ("TASK_ID_STATE_INDEX", ["task_id", "state"], False),
                ("STATUS_JOB_CREATION_INDEX", ["job_name", "creation_time"], False),
                ("STATUS_CREATION_INDEX", ["creation_time"], False),
            ],
        ),
        (
            "PRODUCER_FIRE_LOG",
            [
                sa.Column("id", sa.String(40), primary_key=True),
                sa.Column("job_name", sa.String(100), nullable=False),
                sa.Column("kind", sa.String(20), nullable=False),
                sa.Column("fire_time", sa.DateTime, nullable=False),
                sa.Column("runs", sa.Integer, nullable=False),
                sa.Column("missed", sa.Integer, nullable=False),
                sa.Column("ready_count", sa.Integer, nullable=True),
                sa.Column("creation_time", sa.DateTime, nullable=False),
            ],
            [
                ("FIRE_JOB_TIME_INDEX", ["job_name", "fire_time"], False),
                ("FIRE_CREATION_INDEX", ["creation_time"], False),
            ],
        ),
        *(
            _statistics(f"TASK_RESULT_STATISTICS_{i}", "success_count", "failed_count")
            for i in ("MINUTE", "HOUR", "DAY")
        ),
        _statistics("TASK_RUNNING_STATISTICS", "running_count"),
        _statistics("JOB_RUNNING_STATISTICS", "running_count"),
        _statistics("JOB_REGISTER_STATISTICS", "registered_count"),
    ]


def upgrade():
    inspector = sa.inspect(op.get_bind())
    existing = set(inspector.get_table_names())
    for name, columns, indexes in _tables():
        created = name not in existing
        if created:
            op.create_table(name, *columns)
        present = set() if created else {i["name"] for i in inspector.get_indexes(name)}
        for index, names, unique in indexes:
            if index in present or (unique and not created):
                continue
            op.create_index(index, name, names, unique=unique)


def downgrade():
    for name, _, _ in reversed(_tables()):
        op.drop_table(name)
