"""Search indexes that cover the page look-up: (job, time, id), so a deep page (OFFSET 10,000) is
found in the index alone and only its own rows are read from the table.

Revision ID: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

CHANGES = [
    (
        "JOB_EXECUTION_LOG",
        "EXECUTION_JOB_START_INDEX",
        ["job_name", "start_time"],
        ["job_name", "start_time", "id"],
    ),
    (
        "JOB_STATUS_TRACE_LOG",
        "STATUS_JOB_CREATION_INDEX",
        ["job_name", "creation_time"],
        ["job_name", "creation_time", "id"],
    ),
]


def _replace(columns_at: int) -> None:
    present = {
        table: {i["name"] for i in sa.inspect(op.get_bind()).get_indexes(table)} for table, *_ in CHANGES
    }
    for table, index, *columns in CHANGES:
        if index in present[table]:
            op.drop_index(index, table_name=table)
        op.create_index(index, table, columns[columns_at])


def upgrade():
    _replace(1)


def downgrade():
    _replace(0)
