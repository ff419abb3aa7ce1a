"""Mail limits per recipient and client, one-time links.

mail_asks counts every ask to e-mail an address (consent links, rights requests, receipts) and
takes over consent_links_sent, whose rows are copied in (their hashes keep counting); spent_tokens
keeps the ids of used sign-in links and site assertions until they expire.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

import rightful.core.db

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def _consent_links_sent() -> None:
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


def upgrade() -> None:
    """Create mail_asks (with consent_links_sent's rows) and spent_tokens."""
    op.create_table(
        "mail_asks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("address_hash", sa.String(length=64), nullable=False),
        sa.Column("client_hash", sa.String(length=64), nullable=False),
        sa.Column("asked_at", rightful.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mail_asks")),
    )
    op.create_index("ix_mail_asks_address_time", "mail_asks", ["address_hash", "asked_at"])
    op.create_index("ix_mail_asks_client_time", "mail_asks", ["client_hash", "asked_at"])
    op.create_index(op.f("ix_mail_asks_asked_at"), "mail_asks", ["asked_at"])
    op.execute(
        "INSERT INTO mail_asks (kind, address_hash, client_hash, asked_at) "
        "SELECT 'consent-link', address_hash, client_hash, sent_at FROM consent_links_sent"
    )
    op.drop_table("consent_links_sent")
    op.create_table(
        "spent_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(length=40), nullable=False),
        sa.Column("jti_hash", sa.String(length=64), nullable=False),
        sa.Column("expires_at", rightful.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_spent_tokens")),
        sa.UniqueConstraint("purpose", "jti_hash", name="uq_spent_tokens_jti"),
    )
    op.create_index(op.f("ix_spent_tokens_expires_at"), "spent_tokens", ["expires_at"])


def downgrade() -> None:
    """Drop spent_tokens; give the consent-link counts back to consent_links_sent."""
    op.drop_table("spent_tokens")
    _consent_links_sent()
    op.execute(
        "INSERT INTO consent_links_sent (address_hash, client_hash, sent_at) "
        "SELECT address_hash, client_hash, asked_at FROM mail_asks WHERE kind = 'consent-link'"
    )
    op.drop_table("mail_asks")
