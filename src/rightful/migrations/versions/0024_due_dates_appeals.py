"""Reserved for issue 10 (due dates appeals); filled in by the change that needs it.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-04
"""

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Nothing yet."""


def downgrade() -> None:
    """Nothing yet."""
