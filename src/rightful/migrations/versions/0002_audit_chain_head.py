"""The audit chain's head row, so concurrent appends are put in order.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

GENESIS = "0" * 64


def upgrade() -> None:
    """Create the head and point it at the newest event (or the genesis hash)."""
    head = op.create_table(
        "audit_chain_head",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("events", sa.Integer(), nullable=False),
        sa.Column("last_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_chain_head")),
    )
    conn = op.get_bind()
    last = conn.execute(sa.text("SELECT hash FROM audit_events ORDER BY id DESC LIMIT 1")).scalar()
    count = conn.execute(sa.text("SELECT count(*) FROM audit_events")).scalar() or 0
    op.bulk_insert(head, [{"id": 1, "events": count, "last_hash": last or GENESIS}])


def downgrade() -> None:
    """Drop the head."""
    op.drop_table("audit_chain_head")
