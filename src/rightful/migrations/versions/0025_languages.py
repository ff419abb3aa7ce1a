"""The language a rights request was made in, so its e-mails are written in it.

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add rights_requests.language; requests made before it were made in English."""
    with op.batch_alter_table("rights_requests") as batch:
        batch.add_column(
            sa.Column("language", sa.String(length=16), nullable=False, server_default="en")
        )


def downgrade() -> None:
    """Drop rights_requests.language."""
    with op.batch_alter_table("rights_requests") as batch:
        batch.drop_column("language")
