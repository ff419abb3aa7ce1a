"""California's Delete Request and Opt-out Platform (issue 12): DROP cycles, work items, the
keyed index of the company's own records, and the hashes kept of matched people.

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

import rightful.core.db

revision = "0029"
down_revision = "0028"
branch_labels = None
depends_on = None


def _when(name: str, nullable: bool = True) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, rightful.core.db.UTCDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    """Create drop_cycles, drop_work_items, drop_item_requests, drop_index and drop_kept."""
    op.create_table(
        "drop_cycles",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False, unique=True),
        sa.Column("source", sa.String(10), nullable=False),
        sa.Column("broker_id", sa.String(20), nullable=False),
        _when("downloaded_at", nullable=False),
        sa.Column("imported_by", sa.String(200), nullable=False),
        sa.Column("lines", sa.Integer(), nullable=False),
        sa.Column("bad_lines", sa.Integer(), nullable=False),
        sa.Column("problems", sa.JSON(), nullable=False),
        _when("imported_at"),
        _when("matched_at"),
        _when("status_file_at"),
        _when("uploaded_at"),
        sa.Column("upload_result", sa.JSON(), nullable=False),
    )
    op.create_table(
        "drop_work_items",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "cycle_id",
            sa.Integer(),
            sa.ForeignKey("drop_cycles.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("item_id", sa.String(12), nullable=False),
        sa.Column("list_type", sa.String(10), nullable=False),
        sa.Column("hash", sa.String(44), nullable=False),
        sa.Column("file_name", sa.String(120), nullable=False),
        sa.Column("outcome", sa.String(12), nullable=False),
        sa.Column("code", sa.Integer(), nullable=True),
        _when("decided_at"),
        sa.Column("reported_in", sa.String(120), nullable=True),
    )
    op.create_index("ix_drop_items_cycle", "drop_work_items", ["cycle_id", "outcome"])
    op.create_index("ix_drop_items_hash", "drop_work_items", ["list_type", "hash"])
    op.create_table(
        "drop_item_requests",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "work_item_id",
            sa.Integer(),
            sa.ForeignKey("drop_work_items.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("request_id", sa.String(32), nullable=False),
        sa.UniqueConstraint("work_item_id", "request_id"),
    )
    op.create_index("ix_drop_item_requests_work_item_id", "drop_item_requests", ["work_item_id"])
    op.create_index("ix_drop_item_requests_request_id", "drop_item_requests", ["request_id"])
    op.create_table(
        "drop_index",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("list_type", sa.String(10), nullable=False),
        sa.Column("hash", sa.String(44), nullable=False),
        sa.Column("system", sa.String(100), nullable=False),
        sa.Column("address", sa.String(250), nullable=False),
        sa.Column("row_key", sa.String(200), nullable=False),
    )
    op.create_index("ix_drop_index_hash", "drop_index", ["list_type", "hash"])
    op.create_table(
        "drop_kept",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("list_type", sa.String(10), nullable=False),
        sa.Column("hash", sa.String(44), nullable=False),
        sa.Column("first_item_id", sa.String(12), nullable=False),
        sa.Column("request_id", sa.String(32), nullable=True),
        sa.Column("action", sa.String(10), nullable=False),
        _when("kept_at", nullable=False),
        sa.UniqueConstraint("list_type", "hash"),
    )


def downgrade() -> None:
    """Drop the DROP tables."""
    for table in (
        "drop_kept",
        "drop_index",
        "drop_item_requests",
        "drop_work_items",
        "drop_cycles",
    ):
        op.drop_table(table)
