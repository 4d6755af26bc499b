"""The audit log of the REST API's accepted writes (``AUDIT_LOG``).

Spelled out here, not imported from ``schema.py``, as revision 0001 does.

Revision ID: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade():
    if "AUDIT_LOG" in set(sa.inspect(op.get_bind()).get_table_names()):
        return
    op.create_table(
        "AUDIT_LOG",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("creation_time", sa.DateTime, nullable=False),
        sa.Column("username", sa.String(100), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("address", sa.String(64), nullable=False),
        sa.Column("method", sa.String(10), nullable=False),
        sa.Column("path", sa.String(1000), nullable=False),
        sa.Column("status", sa.Integer, nullable=False),
        sa.Column("body", sa.String(4000), nullable=False),
    )
    op.create_index("AUDIT_CREATION_INDEX", "AUDIT_LOG", ["creation_time"])
    op.create_index("AUDIT_USER_CREATION_INDEX", "AUDIT_LOG", ["username", "creation_time"])


def downgrade():
    op.drop_table("AUDIT_LOG")
