"""Privacy notice versions (issue 13): placeholder, filled by the notices work.

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-05
"""

revision = "0031"
down_revision = "0030"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Nothing yet."""


def downgrade() -> None:
    """Nothing yet."""
