"""Staff roles and permissions; API tokens with scopes, expiry and last use.

Tokens issued before this revision keep working with every scope their owner's role allows, and
expire 90 days after the upgrade. Staff keep their role (admin, the earlier default).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-04
"""

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

import rightful.core.db

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

ALL_SCOPES = [  # security/permissions.py as of this revision; a token never exceeds its role
    "audit.verify",
    "consent.check",
    "consent.manage",
    "consent.read_personal",
    "consent.record",
    "consent.view",
    "erasure.approve",
    "inventory.manage",
    "inventory.view",
    "marketing.send",
    "outbox.read",
    "policies.manage",
    "requests.decide",
    "requests.prepare",
    "requests.read_personal",
    "requests.submit",
    "requests.view",
    "staff.manage",
    "tokens.manage",
]


def upgrade() -> None:
    """Add api_tokens.scopes, expires_at and last_used_at; give existing tokens 90 days."""
    with op.batch_alter_table("api_tokens") as batch:
        batch.add_column(sa.Column("scopes", sa.JSON(), nullable=True))
        batch.add_column(
            sa.Column("expires_at", rightful.core.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch.add_column(
            sa.Column("last_used_at", rightful.core.db.UTCDateTime(timezone=True), nullable=True)
        )
    tokens = sa.table(
        "api_tokens",
        sa.column("scopes", sa.JSON),
        sa.column("expires_at", rightful.core.db.UTCDateTime(timezone=True)),
    )
    op.execute(
        tokens.update().values(scopes=ALL_SCOPES, expires_at=datetime.now(UTC) + timedelta(days=90))
    )
    with op.batch_alter_table("api_tokens") as batch:
        batch.alter_column("scopes", existing_type=sa.JSON(), nullable=False)


def downgrade() -> None:
    """Drop the token columns."""
    with op.batch_alter_table("api_tokens") as batch:
        batch.drop_column("last_used_at")
        batch.drop_column("expires_at")
        batch.drop_column("scopes")
