"""Manual tasks for systems without an API (issue 11 item 3).

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-05
"""

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Nothing yet."""


def downgrade() -> None:
    """Nothing yet."""
