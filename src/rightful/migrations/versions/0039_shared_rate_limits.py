"""Rate limits shared by every process (issue 14): a sliding window of hits per key, for
deployments without Redis.

Revision ID: 0039
Revises: 0037
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

import rightful.core.db

revision = "0039"
down_revision = "0037"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add rate_limit_windows."""
    op.create_table(
        "rate_limit_windows",
        sa.Column("key_hash", sa.String(length=80), primary_key=True),
        sa.Column("hits", sa.Text(), nullable=False),
        sa.Column("until", rightful.core.db.UTCDateTime(), nullable=False),
    )
    op.create_index("ix_rate_limit_windows_until", "rate_limit_windows", ["until"])


def downgrade() -> None:
    """Drop rate_limit_windows."""
    op.drop_index("ix_rate_limit_windows_until", table_name="rate_limit_windows")
    op.drop_table("rate_limit_windows")
