"""Consent deliveries and portability transfers claimed like partner notices; the DROP index
refreshed by buckets between cycles (issue 12).

Revision ID: 0037
Revises: 0033
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

import rightful.core.db

revision = "0037"
# 0034-0036 were handed out but not written when this was; chain to whichever precedes it.
down_revision = "0033"
branch_labels = None
depends_on = None

_WHEN = rightful.core.db.UTCDateTime(timezone=True)


def upgrade() -> None:
    """Add the claim columns of consent deliveries and transfers, the index entries' bucket,
    drop_index_buckets and drop_index_state."""
    for table in ("consent_deliveries", "portability_transfers"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("claimed_by", sa.String(length=32), nullable=True))
            batch.add_column(sa.Column("claimed_until", _WHEN, nullable=True))
    with op.batch_alter_table("drop_index") as batch:
        batch.add_column(sa.Column("bucket", sa.Integer(), nullable=False, server_default="0"))
    op.create_index("ix_drop_index_bucket", "drop_index", ["address", "bucket"])
    op.create_table(
        "drop_index_buckets",
        sa.Column("address", sa.String(length=250), nullable=False),
        sa.Column("bucket", sa.Integer(), nullable=False),
        sa.Column("entries", sa.Integer(), nullable=False),
        sa.Column("digest", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("address", "bucket", name=op.f("pk_drop_index_buckets")),
    )
    op.create_table(
        "drop_index_state",
        sa.Column("address", sa.String(length=250), nullable=False),
        sa.Column("system", sa.String(length=100), nullable=False),
        sa.Column("buckets", sa.Integer(), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("entries", sa.Integer(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("built_at", _WHEN, nullable=False),
        sa.Column("refreshed_at", _WHEN, nullable=False),
        sa.Column("rewritten", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("address", name=op.f("pk_drop_index_state")),
    )


def downgrade() -> None:
    """Drop what upgrade added."""
    op.drop_table("drop_index_state")
    op.drop_table("drop_index_buckets")
    op.drop_index("ix_drop_index_bucket", table_name="drop_index")
    with op.batch_alter_table("drop_index") as batch:
        batch.drop_column("bucket")
    for table in ("portability_transfers", "consent_deliveries"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("claimed_until")
            batch.drop_column("claimed_by")
