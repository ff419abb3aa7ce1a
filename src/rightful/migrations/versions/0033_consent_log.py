"""Consent ledger sequenced off the hot path, with signed tree heads (issue 14).

Events get a `position` in the signed log (given later by the sequencer) and lose the need for
a chain hash; the Merkle tree's stored subtrees, the signed tree heads, the sequencer's lease
row and the signing keys' public halves get tables.

Events already chained keep their `prev_hash`/`hash` and the chain's head row stays as it is:
`rightful consent verify` still walks that chain for them (the prefix), and the sequencer puts
them in the tree first, in chain order (their ids follow the chain), each leaf carrying its
chain hash. So the old proof is kept, and the tree commits to it.

Revision ID: 0033
Revises: 0032
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

import rightful.core.db

revision = "0033"
down_revision = "0032"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add positions, the tree's tables and the signing keys' table."""
    with op.batch_alter_table("consent_events") as batch:
        batch.add_column(sa.Column("position", sa.Integer(), nullable=True))
        batch.alter_column("prev_hash", existing_type=sa.String(64), nullable=True)
        batch.alter_column("hash", existing_type=sa.String(64), nullable=True)
        batch.create_index("ix_consent_events_position", ["position"], unique=True)
    op.create_table(
        "consent_log_nodes",
        sa.Column("level", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("number", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("level", "number", name=op.f("pk_consent_log_nodes")),
    )
    op.create_table(
        "consent_tree_heads",
        sa.Column("tree_size", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("root_hash", sa.String(64), nullable=False),
        sa.Column("timestamp", sa.BigInteger(), nullable=False),
        sa.Column("key_id", sa.String(64), nullable=False),
        sa.Column("signature", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("tree_size", name=op.f("pk_consent_tree_heads")),
    )
    op.create_table(
        "consent_sequencer",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("claimed_by", sa.String(40), nullable=True),
        sa.Column("claimed_until", rightful.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_sequencer")),
    )
    op.execute("INSERT INTO consent_sequencer (id) VALUES (1)")
    op.create_table(
        "signing_keys",
        sa.Column("key_id", sa.String(64), nullable=False),
        sa.Column("purpose", sa.String(40), nullable=False),
        sa.Column("data_key_version", sa.Integer(), nullable=False),
        sa.Column("public_key", sa.String(100), nullable=False),
        sa.Column("created_at", rightful.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key_id", name=op.f("pk_signing_keys")),
    )


def downgrade() -> None:
    """Drop the tree (events sequenced without a chain hash cannot go back to the chain)."""
    op.drop_table("signing_keys")
    op.drop_table("consent_sequencer")
    op.drop_table("consent_tree_heads")
    op.drop_table("consent_log_nodes")
    with op.batch_alter_table("consent_events") as batch:
        batch.drop_index("ix_consent_events_position")
        batch.drop_column("position")
