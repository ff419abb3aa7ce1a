"""Versioned encryption keys and chain heads that count.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-04
"""

from alembic import op  # noqa: F401  # used once this revision has a body

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Nothing yet."""


def downgrade() -> None:
    """Nothing yet."""
