"""Server-side staff sessions, sign-in throttling and second factors.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-04
"""

from alembic import op  # noqa: F401  # used once this revision has a body

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Nothing yet."""


def downgrade() -> None:
    """Nothing yet."""
