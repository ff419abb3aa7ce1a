"""Case desk follow-ups (issue 10).

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-05
"""

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Nothing yet."""


def downgrade() -> None:
    """Nothing yet."""
