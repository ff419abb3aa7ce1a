"""Server-side staff sessions, sign-in throttling and second factors.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

import rightful.core.db

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

UTC = rightful.core.db.UTCDateTime(timezone=True)


def upgrade() -> None:
    """Create staff_sessions, staff_signin_throttles and staff_second_factors."""
    op.create_table(
        "staff_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("last_seen_at", UTC, nullable=False),
        sa.Column("expires_at", UTC, nullable=False),
        sa.Column("revoked_at", UTC, nullable=True),
        sa.Column("revoked_reason", sa.String(length=40), nullable=True),
        sa.ForeignKeyConstraint(
            ["staff_id"],
            ["staff_users.id"],
            name=op.f("fk_staff_sessions_staff_id_staff_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_sessions")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_staff_sessions_token_hash")),
    )
    op.create_index(
        op.f("ix_staff_sessions_staff_id"), "staff_sessions", ["staff_id"], unique=False
    )
    op.create_table(
        "staff_signin_throttles",
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failure_at", UTC, nullable=False),
        sa.Column("locked_at", UTC, nullable=True),
        sa.PrimaryKeyConstraint("key_hash", name=op.f("pk_staff_signin_throttles")),
    )
    op.create_table(
        "staff_second_factors",
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("secret_encrypted", sa.String(length=300), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("confirmed_at", UTC, nullable=True),
        sa.Column("last_step", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["staff_id"],
            ["staff_users.id"],
            name=op.f("fk_staff_second_factors_staff_id_staff_users"),
        ),
        sa.PrimaryKeyConstraint("staff_id", name=op.f("pk_staff_second_factors")),
    )


def downgrade() -> None:
    """Drop the three tables."""
    op.drop_table("staff_second_factors")
    op.drop_table("staff_signin_throttles")
    op.drop_index(op.f("ix_staff_sessions_staff_id"), table_name="staff_sessions")
    op.drop_table("staff_sessions")
