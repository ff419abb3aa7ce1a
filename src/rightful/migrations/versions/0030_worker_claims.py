"""Workers that never lose or repeat work (issue 12): claims, heartbeats and mail backoff.

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

import rightful.core.db

revision = "0030"
down_revision = "0029"
branch_labels = None
depends_on = None

_WHEN = rightful.core.db.UTCDateTime(timezone=True)


def upgrade() -> None:
    """Add worker_heartbeats, the claim columns of partner notices and outbox messages, the
    outbox's next attempt, and the holder of a request's lease."""
    op.create_table(
        "worker_heartbeats",
        sa.Column("worker_id", sa.String(length=24), nullable=False),
        sa.Column("host", sa.String(length=100), nullable=False),
        sa.Column("lanes", sa.String(length=100), nullable=False),
        sa.Column("started_at", _WHEN, nullable=False),
        sa.Column("beat_at", _WHEN, nullable=False),
        sa.PrimaryKeyConstraint("worker_id", name=op.f("pk_worker_heartbeats")),
    )
    for table in ("partner_notices", "outbox_messages"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("claimed_by", sa.String(length=32), nullable=True))
            batch.add_column(sa.Column("claimed_until", _WHEN, nullable=True))
    with op.batch_alter_table("outbox_messages") as batch:
        batch.add_column(sa.Column("next_attempt_at", _WHEN, nullable=True))
    with op.batch_alter_table("rights_requests") as batch:
        batch.add_column(sa.Column("lease_holder", sa.String(length=32), nullable=True))


def downgrade() -> None:
    """Drop what upgrade added."""
    with op.batch_alter_table("rights_requests") as batch:
        batch.drop_column("lease_holder")
    with op.batch_alter_table("outbox_messages") as batch:
        batch.drop_column("next_attempt_at")
    for table in ("outbox_messages", "partner_notices"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("claimed_until")
            batch.drop_column("claimed_by")
    op.drop_table("worker_heartbeats")
