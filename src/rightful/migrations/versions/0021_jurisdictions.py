"""Jurisdictions in one vocabulary: rights requests store ISO 3166-2 codes (`CA` → `US-CA`).

The consent ledger is left as it was recorded: its events are hash-chained evidence that must
never change, and `rightful.laws.parse` reads their older two-letter codes (`CA`) as US states.
The column already holds 10 characters, enough for `US-OTHER`.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

_requests = sa.table("rights_requests", sa.column("jurisdiction", sa.String(10)))


def upgrade() -> None:
    """Every two-letter code was a US state (the form, API and CLI accepted nothing else)."""
    col = _requests.c.jurisdiction
    op.execute(
        _requests.update()
        .where(sa.func.length(col) == 2)
        .values(jurisdiction=sa.literal("US-", sa.String) + sa.func.upper(col))
    )


def downgrade() -> None:
    """Back to two letters for US states; other codes (GB, IE, US-OTHER...) stay as they are:
    the older code only ever read them through its California default."""
    col = _requests.c.jurisdiction
    op.execute(
        _requests.update()
        .where(col.like("US-__"), sa.func.length(col) == 5)
        .values(jurisdiction=sa.func.substr(col, 4, 2))
    )
