"""Casework (issue 10): cases from the privacy mailbox, the contact form and the console, their
messages, and the mailbox's reading position with per-message claims.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

import rightful.core.db

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

UTC = rightful.core.db.UTCDateTime(timezone=True)


def upgrade() -> None:
    """Create cases, case_messages, mailbox_state and mailbox_claims."""
    op.create_table(
        "cases",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("reference", sa.String(length=20), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("language", sa.String(length=16), nullable=False),
        sa.Column("suggested_type", sa.String(length=30), nullable=True),
        sa.Column("confirmed_type", sa.String(length=30), nullable=True),
        sa.Column("request_id", sa.String(length=32), nullable=True),
        sa.Column("assigned_to", sa.String(length=200), nullable=True),
        sa.Column("received_at", UTC, nullable=False),
        sa.Column("respond_due", sa.Date(), nullable=False),
        sa.Column("sender", sa.Text(), nullable=False),
        sa.Column("sender_hash", sa.String(length=64), nullable=False),
        sa.Column("subject", sa.Text(), nullable=True),
        sa.Column("outcome", sa.String(length=30), nullable=True),
        sa.Column("closed_at", UTC, nullable=True),
        sa.Column("minimised_at", UTC, nullable=True),
        sa.Column("updated_at", UTC, nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("reference"),
    )
    op.create_index("ix_cases_status", "cases", ["status"])
    op.create_index("ix_cases_request_id", "cases", ["request_id"])
    op.create_index("ix_cases_sender_hash", "cases", ["sender_hash"])
    op.create_table(
        "case_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.String(length=32), nullable=False),
        sa.Column("direction", sa.String(length=3), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("message_hash", sa.String(length=64), nullable=True),
        sa.Column("author", sa.String(length=200), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("at", UTC, nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_case_messages_case_id", "case_messages", ["case_id"])
    op.create_index("ix_case_messages_message_hash", "case_messages", ["message_hash"])
    op.create_table(
        "mailbox_state",
        sa.Column("mailbox", sa.String(length=64), nullable=False),
        sa.Column("uidvalidity", sa.Integer(), nullable=False),
        sa.Column("last_uid", sa.Integer(), nullable=False),
        sa.Column("updated_at", UTC, nullable=False),
        sa.PrimaryKeyConstraint("mailbox"),
    )
    op.create_table(
        "mailbox_claims",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("mailbox", sa.String(length=64), nullable=False),
        sa.Column("uidvalidity", sa.Integer(), nullable=False),
        sa.Column("uid", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("claimed_until", UTC, nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=True),
        sa.Column("case_id", sa.String(length=32), nullable=True),
        sa.Column("seen", sa.Boolean(), nullable=False),
        sa.Column("done_at", UTC, nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("mailbox", "uidvalidity", "uid"),
    )


def downgrade() -> None:
    """Drop the casework tables."""
    op.drop_table("mailbox_claims")
    op.drop_table("mailbox_state")
    op.drop_index("ix_case_messages_message_hash", table_name="case_messages")
    op.drop_index("ix_case_messages_case_id", table_name="case_messages")
    op.drop_table("case_messages")
    op.drop_index("ix_cases_sender_hash", table_name="cases")
    op.drop_index("ix_cases_request_id", table_name="cases")
    op.drop_index("ix_cases_status", table_name="cases")
    op.drop_table("cases")
