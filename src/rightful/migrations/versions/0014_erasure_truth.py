"""A partner notice waived by staff keeps their internal note apart from what the person is told.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add partner_notices.explanation: what the person is told, apart from staff's note."""
    with op.batch_alter_table("partner_notices") as batch:
        batch.add_column(sa.Column("explanation", sa.Text(), nullable=True))


def downgrade() -> None:
    """Drop partner_notices.explanation."""
    with op.batch_alter_table("partner_notices") as batch:
        batch.drop_column("explanation")
