"""Bulk intake (issue 12): the sender's reference of each imported request.

Revision ID: 0032
Revises: 0031
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

import rightful.core.db

revision = "0032"
down_revision = "0031"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add imported_requests, unique per (source, external_id)."""
    op.create_table(
        "imported_requests",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("source", sa.String(length=100), nullable=False),
        sa.Column("external_id", sa.String(length=200), nullable=False),
        sa.Column(
            "request_id",
            sa.String(length=32),
            sa.ForeignKey("rights_requests.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column("reference", sa.String(length=20), nullable=False),
        sa.Column("imported_by", sa.String(length=200), nullable=False),
        sa.Column("imported_at", rightful.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("source", "external_id", name="uq_imported_source_ref"),
    )


def downgrade() -> None:
    """Drop imported_requests."""
    op.drop_table("imported_requests")
