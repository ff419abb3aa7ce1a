"""Reserved for issue 10 (jurisdictions); filled in by the change that needs it.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-04
"""

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Nothing yet."""


def downgrade() -> None:
    """Nothing yet."""
