"""Mail limits per recipient and client, one-time links.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-04
"""

from alembic import op  # noqa: F401  # used once this revision has a body

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Nothing yet."""


def downgrade() -> None:
    """Nothing yet."""
