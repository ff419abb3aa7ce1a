"""Manual tasks for systems without an API (issue 11 item 3), and a system's owner.

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

import rightful.core.db

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create manual_tasks; add systems.owner."""
    op.create_table(
        "manual_tasks",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("request_id", sa.String(length=32), nullable=False),
        sa.Column("system", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("owner", sa.String(length=254), nullable=True),
        sa.Column("instructions", sa.JSON(), nullable=False),
        sa.Column("subject", sa.Text(), nullable=True),
        sa.Column("outcome", sa.String(length=20), nullable=True),
        sa.Column("findings", sa.Text(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("evidence_id", sa.String(length=32), nullable=True),
        sa.Column("completed_by", sa.String(length=200), nullable=True),
        sa.Column("completed_at", rightful.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", rightful.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["request_id"], ["rights_requests.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("request_id", "system"),
    )
    op.create_index("ix_manual_tasks_request_id", "manual_tasks", ["request_id"])
    op.create_index("ix_manual_tasks_status_owner", "manual_tasks", ["status", "owner"])
    with op.batch_alter_table("systems") as batch:
        batch.add_column(sa.Column("owner", sa.String(length=254), nullable=True))


def downgrade() -> None:
    """Drop systems.owner and manual_tasks."""
    with op.batch_alter_table("systems") as batch:
        batch.drop_column("owner")
    op.drop_index("ix_manual_tasks_status_owner", table_name="manual_tasks")
    op.drop_index("ix_manual_tasks_request_id", table_name="manual_tasks")
    op.drop_table("manual_tasks")
