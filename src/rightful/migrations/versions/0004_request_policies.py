"""Policies per request type (the erasure policy first).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

import rightful.core.db

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the policies table."""
    op.create_table(
        "request_policies",
        sa.Column("request_type", sa.String(length=30), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("updated_at", rightful.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("request_type", name=op.f("pk_request_policies")),
    )


def downgrade() -> None:
    """Drop the policies table."""
    op.drop_table("request_policies")
