"""Due dates and appeals: reminders claimed before they are sent, and appeals.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

import rightful.core.db

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create due_notices and appeals."""
    op.create_table(
        "due_notices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("due", sa.Date(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("created_at", rightful.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("subject", "kind", "due", "day"),
    )
    op.create_table(
        "appeals",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("request_id", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("received_at", rightful.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("due", sa.Date(), nullable=False),
        sa.Column("decided_by", sa.String(length=200), nullable=True),
        sa.Column("decided_at", rightful.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=10), nullable=True),
        sa.Column("written_outcome", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["request_id"], ["rights_requests.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("request_id"),
    )
    op.create_index("ix_appeals_status", "appeals", ["status"])


def downgrade() -> None:
    """Drop appeals and due_notices."""
    op.drop_index("ix_appeals_status", table_name="appeals")
    op.drop_table("appeals")
    op.drop_table("due_notices")
