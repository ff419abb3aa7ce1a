"""Phone numbers as consent subjects (for texts): the number sealed, found by keyed hash.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add consent_subjects.sealed_phone."""
    with op.batch_alter_table("consent_subjects") as batch:
        batch.add_column(sa.Column("sealed_phone", sa.Text(), nullable=True))


def downgrade() -> None:
    """Drop consent_subjects.sealed_phone."""
    with op.batch_alter_table("consent_subjects") as batch:
        batch.drop_column("sealed_phone")
