"""Documents people send (scanned letters, agents' permissions, parents' evidence, e-mail
attachments), sealed at rest.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

import rightful.core.db

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create documents."""
    op.create_table(
        "documents",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("request_id", sa.String(length=32), nullable=True),
        sa.Column("case_id", sa.String(length=32), nullable=True),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sealed_name", sa.Text(), nullable=False),
        sa.Column("sealed_content", sa.Text(), nullable=True),
        sa.Column("uploaded_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", rightful.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("destroyed_at", rightful.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_documents_request_id", "documents", ["request_id"])
    op.create_index("ix_documents_case_id", "documents", ["case_id"])


def downgrade() -> None:
    """Drop documents."""
    op.drop_index("ix_documents_case_id", table_name="documents")
    op.drop_index("ix_documents_request_id", table_name="documents")
    op.drop_table("documents")
