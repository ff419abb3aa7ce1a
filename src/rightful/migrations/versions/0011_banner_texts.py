"""The cookie banner in the organisation's words and languages: banner texts per language, and
translations of each purpose's title and description.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create consent_banner_texts and add consent_purposes.translations."""
    op.create_table(
        "consent_banner_texts",
        sa.Column("language", sa.String(length=35), nullable=False),
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("language", "key", name=op.f("pk_consent_banner_texts")),
    )
    with op.batch_alter_table("consent_purposes") as batch:
        # Existing purposes start with no translations; the server default fills their rows.
        batch.add_column(
            sa.Column("translations", sa.JSON(), nullable=False, server_default=sa.text("'{}'"))
        )


def downgrade() -> None:
    """Drop the column and the table."""
    with op.batch_alter_table("consent_purposes") as batch:
        batch.drop_column("translations")
    op.drop_table("consent_banner_texts")
