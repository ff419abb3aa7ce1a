"""Transfers of a portable copy to another organisation (issue 11 item 5).

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-05
"""

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Nothing yet."""


def downgrade() -> None:
    """Nothing yet."""
