"""Consent ledger sequenced off the hot path, with signed tree heads (issue 14): placeholder.

Revision ID: 0033
Revises: 0032
Create Date: 2026-12-05
"""

revision = "0033"
down_revision = "0032"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Nothing yet."""


def downgrade() -> None:
    """Nothing yet."""
