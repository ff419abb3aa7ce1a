"""When a closed request's personal data was removed.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

import rightful.core.db

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add rights_requests.minimised_at."""
    with op.batch_alter_table("rights_requests") as batch:
        batch.add_column(
            sa.Column("minimised_at", rightful.core.db.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    """Drop the column."""
    with op.batch_alter_table("rights_requests") as batch:
        batch.drop_column("minimised_at")
