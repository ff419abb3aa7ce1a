"""The periodic jobs' leases (issue 12): Celery workers send the sweep, reminders and mailbox
runs themselves, one worker per run, without `celery beat`.

Revision ID: 0040
Revises: 0039
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

import rightful.core.db

revision = "0040"
down_revision = "0039"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add worker_schedule."""
    op.create_table(
        "worker_schedule",
        sa.Column("id", sa.String(length=40), primary_key=True),
        sa.Column("claimed_by", sa.String(length=32), nullable=True),
        sa.Column("claimed_until", rightful.core.db.UTCDateTime(), nullable=True),
    )


def downgrade() -> None:
    """Drop worker_schedule."""
    op.drop_table("worker_schedule")
