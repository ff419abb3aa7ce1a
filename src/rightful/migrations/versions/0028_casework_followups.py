"""Case desk follow-ups (issue 10): an appeal's one extension where the law allows it.

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

import rightful.core.db

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add appeals.extended_at, extended_by and extension_reason."""
    with op.batch_alter_table("appeals") as batch:
        batch.add_column(
            sa.Column("extended_at", rightful.core.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch.add_column(sa.Column("extended_by", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("extension_reason", sa.Text(), nullable=True))


def downgrade() -> None:
    """Drop the extension columns."""
    with op.batch_alter_table("appeals") as batch:
        batch.drop_column("extension_reason")
        batch.drop_column("extended_by")
        batch.drop_column("extended_at")
