"""Versioned encryption keys and chain heads that count: data keys (version 1 is the key
derived from RIGHTFUL_SECRET_KEY, later ones wrapped by the key-encryption key), a rotation's
progress per sealed column or folder, and the last scheduled check of each hash chain.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

import rightful.core.db

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create data_keys, key_rotation_steps and chain_checks."""
    op.create_table(
        "data_keys",
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("wrapped", sa.String(length=1000), nullable=True),
        sa.Column("kek_id", sa.String(length=200), nullable=False),
        sa.Column("created_at", rightful.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("rotated_at", rightful.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("retired_at", rightful.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("version", name=op.f("pk_data_keys")),
    )
    op.create_table(
        "key_rotation_steps",
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("target", sa.String(length=120), nullable=False),
        sa.Column("after", sa.String(length=300), nullable=True),
        sa.Column("rewritten", sa.Integer(), nullable=False),
        sa.Column("done_at", rightful.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("version", "target", name=op.f("pk_key_rotation_steps")),
    )
    op.create_table(
        "chain_checks",
        sa.Column("chain", sa.String(length=20), nullable=False),
        sa.Column("checked_at", rightful.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("intact", sa.Boolean(), nullable=True),
        sa.Column("problem", sa.String(length=20), nullable=True),
        sa.Column("broken_at", sa.Integer(), nullable=True),
        sa.Column("message", sa.String(length=500), nullable=False),
        sa.PrimaryKeyConstraint("chain", name=op.f("pk_chain_checks")),
    )


def downgrade() -> None:
    """Drop them (data written with a later key version would stay unreadable: rotate back to
    version 1 is not offered, so do not downgrade a store that rotated)."""
    op.drop_table("chain_checks")
    op.drop_table("key_rotation_steps")
    op.drop_table("data_keys")
