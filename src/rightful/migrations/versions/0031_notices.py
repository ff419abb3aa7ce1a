"""Privacy notice versions (issue 13): drafts, and published versions kept unchanged.

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

import rightful.core.db

revision = "0031"
down_revision = "0030"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create notice_versions."""
    op.create_table(
        "notice_versions",
        sa.Column("number", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("blocks", sa.JSON(), nullable=False),
        sa.Column("rendered", sa.Text(), nullable=False),
        sa.Column("material", sa.Boolean(), nullable=False),
        sa.Column("change_summary", sa.Text(), nullable=False),
        sa.Column("effective_on", sa.Date(), nullable=True),
        sa.Column("last_updated_on", sa.Date(), nullable=True),
        sa.Column("created_at", rightful.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("published_at", rightful.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("published_by", sa.String(length=200), nullable=True),
        sa.Column("told", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("number", name=op.f("pk_notice_versions")),
    )


def downgrade() -> None:
    """Drop notice_versions."""
    op.drop_table("notice_versions")
