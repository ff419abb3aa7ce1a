"""Transfers of a portable copy to another organisation (issue 11 item 5).

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

import rightful.core.db

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create portability_transfers."""
    moment = rightful.core.db.UTCDateTime(timezone=True)
    op.create_table(
        "portability_transfers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uid", sa.String(length=32), nullable=False),
        sa.Column("request_id", sa.String(length=32), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("recipient", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("confirmation_sent_at", moment, nullable=True),
        sa.Column("confirmed_at", moment, nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", moment, nullable=False),
        sa.Column("http_status", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.String(length=200), nullable=True),
        sa.Column("message_id", sa.Integer(), nullable=True),
        sa.Column("sent_at", moment, nullable=True),
        sa.Column("downloaded_at", moment, nullable=True),
        sa.Column("downloads", sa.Integer(), nullable=False),
        sa.Column("person_told_at", moment, nullable=True),
        sa.Column("created_at", moment, nullable=False),
        sa.Column("finished_at", moment, nullable=True),
        sa.ForeignKeyConstraint(["request_id"], ["rights_requests.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("uid"),
        sa.UniqueConstraint("request_id"),
    )
    op.create_index("ix_portability_transfers_status", "portability_transfers", ["status"])


def downgrade() -> None:
    """Drop portability_transfers."""
    op.drop_index("ix_portability_transfers_status", table_name="portability_transfers")
    op.drop_table("portability_transfers")
