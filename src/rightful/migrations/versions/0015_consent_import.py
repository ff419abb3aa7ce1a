"""Choices imported from connected stores: when each store is next read, and what the last
read did. Store destinations added before this revision are read at the worker's next pass.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-04
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import rightful.core.db

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create consent_store_imports."""
    op.create_table(
        "consent_store_imports",
        sa.Column("destination_key", sa.String(length=80), nullable=False),
        sa.Column("next_run_at", rightful.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_run_at", rightful.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("rows_read", sa.Integer(), nullable=False),
        sa.Column("imported", sa.Integer(), nullable=False),
        sa.Column("kept", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(length=300), nullable=True),
        sa.ForeignKeyConstraint(
            ["destination_key"],
            ["consent_destinations.key"],
            name=op.f("fk_consent_store_imports_destination_key_consent_destinations"),
        ),
        sa.PrimaryKeyConstraint("destination_key", name=op.f("pk_consent_store_imports")),
    )
    destinations = sa.table(
        "consent_destinations", sa.column("key", sa.String), sa.column("kind", sa.String)
    )
    imports = sa.table(
        "consent_store_imports",
        sa.column("destination_key", sa.String),
        sa.column("next_run_at", rightful.core.db.UTCDateTime(timezone=True)),
        sa.column("rows_read", sa.Integer),
        sa.column("imported", sa.Integer),
        sa.column("kept", sa.Integer),
    )
    stores = op.get_bind().execute(
        sa.select(destinations.c.key).where(destinations.c.kind == "store")
    )
    now = datetime.now(UTC)
    rows = [
        {"destination_key": key, "next_run_at": now, "rows_read": 0, "imported": 0, "kept": 0}
        for (key,) in stores
    ]
    if rows:
        op.bulk_insert(imports, rows)


def downgrade() -> None:
    """Drop consent_store_imports."""
    op.drop_table("consent_store_imports")
