"""When a scheduled policy (the retention schedule) last ran.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

import rightful.core.db

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add request_policies.last_run_at."""
    with op.batch_alter_table("request_policies") as batch:
        batch.add_column(
            sa.Column("last_run_at", rightful.core.db.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    """Drop the column."""
    with op.batch_alter_table("request_policies") as batch:
        batch.drop_column("last_run_at")
