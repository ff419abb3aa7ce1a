"""Erasure reports what stores changed; consumer-facing partner reasons.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04
"""

from alembic import op  # noqa: F401  # used once this revision has a body

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Nothing yet."""


def downgrade() -> None:
    """Nothing yet."""
