"""When rows kept after an erasure are due to be destroyed.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add erasure_steps.retained_until with its index."""
    with op.batch_alter_table("erasure_steps") as batch:
        batch.add_column(sa.Column("retained_until", sa.Date(), nullable=True))
        batch.create_index("ix_erasure_steps_retained_until", ["retained_until"])


def downgrade() -> None:
    """Drop the column."""
    with op.batch_alter_table("erasure_steps") as batch:
        batch.drop_index("ix_erasure_steps_retained_until")
        batch.drop_column("retained_until")
