"""Choices imported from connected stores.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-04
"""

from alembic import op  # noqa: F401  # used once this revision has a body

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Nothing yet."""


def downgrade() -> None:
    """Nothing yet."""
