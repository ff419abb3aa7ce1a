"""Erasure notices to business partners, and where partners take them.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

import rightful.core.db

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add partners.erasure_webhook and the partner_notices table."""
    with op.batch_alter_table("partners") as batch:
        batch.add_column(sa.Column("erasure_webhook", sa.String(length=500), nullable=True))
    op.create_table(
        "partner_notices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.String(length=32), nullable=False),
        sa.Column("partner_key", sa.String(length=100), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("reminders", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", rightful.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("due", sa.Date(), nullable=False),
        sa.Column("last_error", sa.String(length=200), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("answered_at", rightful.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["rights_requests.id"],
            ondelete="CASCADE",
            name=op.f("fk_partner_notices_request_id_rights_requests"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partner_notices")),
        sa.UniqueConstraint(
            "request_id", "partner_key", name=op.f("uq_partner_notices_request_id")
        ),
    )


def downgrade() -> None:
    """Drop the table and the column."""
    op.drop_table("partner_notices")
    with op.batch_alter_table("partners") as batch:
        batch.drop_column("erasure_webhook")
