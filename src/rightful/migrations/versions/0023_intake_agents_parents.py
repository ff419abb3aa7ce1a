"""Requests entered by staff (post, phone, in person) and requests filed by authorized agents
and parents: who filed it (sealed), the consumer's confirmation, the identity check.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

import rightful.core.db

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None

_WHEN = rightful.core.db.UTCDateTime(timezone=True)


def upgrade() -> None:
    """Add the columns; requests an agent made (`by_agent`) become requester_role 'agent'."""
    with op.batch_alter_table("rights_requests") as batch:
        batch.add_column(
            sa.Column("requester_role", sa.String(10), nullable=False, server_default="self")
        )
        batch.add_column(sa.Column("requester", sa.Text(), nullable=True))
        batch.add_column(
            sa.Column(
                "consumer_confirmation", sa.String(12), nullable=False, server_default="not_asked"
            )
        )
        batch.add_column(sa.Column("permission_checked_by", sa.String(200), nullable=True))
        batch.add_column(sa.Column("permission_checked_at", _WHEN, nullable=True))
        batch.add_column(sa.Column("identity_method", sa.String(30), nullable=True))
        batch.add_column(sa.Column("identity_checked_by", sa.String(200), nullable=True))
        batch.add_column(sa.Column("identity_checked_at", _WHEN, nullable=True))
        batch.add_column(sa.Column("identity_note", sa.Text(), nullable=True))
        batch.add_column(
            sa.Column("reply_by", sa.String(10), nullable=False, server_default="email")
        )
    requests = sa.table(
        "rights_requests", sa.column("by_agent", sa.Boolean), sa.column("requester_role")
    )
    op.execute(
        requests.update().where(requests.c.by_agent == sa.true()).values(requester_role="agent")
    )


def downgrade() -> None:
    """Drop the columns (an agent's request keeps by_agent)."""
    with op.batch_alter_table("rights_requests") as batch:
        for name in (
            "reply_by",
            "identity_note",
            "identity_checked_at",
            "identity_checked_by",
            "identity_method",
            "permission_checked_at",
            "permission_checked_by",
            "consumer_confirmation",
            "requester",
            "requester_role",
        ):
            batch.drop_column(name)
