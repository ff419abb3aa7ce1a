"""Workers that never lose or repeat work (issue 12): placeholder, filled by the worker work.

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-05
"""

revision = "0030"
down_revision = "0029"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Nothing yet."""


def downgrade() -> None:
    """Nothing yet."""
