"""Consent-link limits counted in the database, shared by every server process.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

import rightful.core.db

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create consent_links_sent."""
    op.create_table(
        "consent_links_sent",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("address_hash", sa.String(length=64), nullable=False),
        sa.Column("client_hash", sa.String(length=64), nullable=False),
        sa.Column("sent_at", rightful.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_links_sent")),
    )
    for column in ("address_hash", "client_hash", "sent_at"):
        op.create_index(
            op.f(f"ix_consent_links_sent_{column}"), "consent_links_sent", [column], unique=False
        )


def downgrade() -> None:
    """Drop consent_links_sent."""
    op.drop_table("consent_links_sent")
