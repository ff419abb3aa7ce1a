"""California's Delete Request and Opt-out Platform (issue 12): placeholder for DROP.

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-05
"""

revision = "0029"
down_revision = "0028"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Nothing yet."""


def downgrade() -> None:
    """Nothing yet."""
