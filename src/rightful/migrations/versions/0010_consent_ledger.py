"""The consent ledger: purposes, subjects, events, derived state, suppressions, propagation.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 05:56:08.757543
"""

import sqlalchemy as sa
from alembic import op

import rightful.core.db

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the consent tables and start the consent chain."""
    op.create_table(
        "consent_destinations",
        sa.Column("key", sa.String(length=80), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("url", sa.String(length=500), nullable=True),
        sa.Column("purposes", sa.JSON(), nullable=False),
        sa.Column("target", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", rightful.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_consent_destinations")),
    )
    op.create_table(
        "consent_purposes",
        sa.Column("key", sa.String(length=80), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("title", sa.String(length=120), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("channels", sa.JSON(), nullable=False),
        sa.Column("default", sa.String(length=10), nullable=False),
        sa.Column("data_use", sa.String(length=120), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("cookie_names", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_consent_purposes")),
    )
    op.create_table(
        "consent_subjects",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("lookup_hash", sa.String(length=64), nullable=False),
        sa.Column("email_sha256", sa.String(length=64), nullable=True),
        sa.Column("sealed_email", sa.Text(), nullable=True),
        sa.Column("person_id", sa.String(length=32), nullable=True),
        sa.Column("created_at", rightful.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["consent_subjects.id"],
            name=op.f("fk_consent_subjects_person_id_consent_subjects"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_subjects")),
        sa.UniqueConstraint("lookup_hash", name=op.f("uq_consent_subjects_lookup_hash")),
    )
    with op.batch_alter_table("consent_subjects", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_consent_subjects_email_sha256"), ["email_sha256"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_consent_subjects_person_id"), ["person_id"], unique=False
        )

    op.create_table(
        "marketing_suppressions",
        sa.Column("email_sha256", sa.String(length=64), nullable=False),
        sa.Column("topic", sa.String(length=80), nullable=False),
        sa.Column("reason", sa.String(length=30), nullable=False),
        sa.Column("since", rightful.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("email_sha256", "topic", name=op.f("pk_marketing_suppressions")),
    )
    op.create_table(
        "consent_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uid", sa.String(length=32), nullable=False),
        sa.Column("subject_id", sa.String(length=32), nullable=False),
        sa.Column("purpose", sa.String(length=80), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("interface", sa.String(length=30), nullable=False),
        sa.Column("notice_version", sa.String(length=40), nullable=False),
        sa.Column("jurisdiction", sa.String(length=10), nullable=False),
        sa.Column("proof", sa.JSON(), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=True),
        sa.Column("at", rightful.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["subject_id"],
            ["consent_subjects.id"],
            name=op.f("fk_consent_events_subject_id_consent_subjects"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_events")),
        sa.UniqueConstraint("uid", name=op.f("uq_consent_events_uid")),
    )
    with op.batch_alter_table("consent_events", schema=None) as batch_op:
        batch_op.create_index("ix_consent_events_subject", ["subject_id", "id"], unique=False)

    op.create_table(
        "consent_deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("destination_key", sa.String(length=80), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", rightful.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_error", sa.String(length=300), nullable=True),
        sa.Column("target_at", rightful.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("due_at", rightful.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("acknowledged_at", rightful.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("alerted_at", rightful.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", rightful.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["destination_key"],
            ["consent_destinations.key"],
            name=op.f("fk_consent_deliveries_destination_key_consent_destinations"),
        ),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["consent_events.id"],
            name=op.f("fk_consent_deliveries_event_id_consent_events"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_deliveries")),
        sa.UniqueConstraint(
            "event_id", "destination_key", name=op.f("uq_consent_deliveries_event_id")
        ),
    )
    with op.batch_alter_table("consent_deliveries", schema=None) as batch_op:
        batch_op.create_index(
            "ix_consent_deliveries_open", ["status", "next_attempt_at"], unique=False
        )

    op.create_table(
        "consent_states",
        sa.Column("subject_id", sa.String(length=32), nullable=False),
        sa.Column("purpose", sa.String(length=80), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("updated_at", rightful.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["consent_events.id"],
            name=op.f("fk_consent_states_event_id_consent_events"),
        ),
        sa.ForeignKeyConstraint(
            ["subject_id"],
            ["consent_subjects.id"],
            name=op.f("fk_consent_states_subject_id_consent_subjects"),
        ),
        sa.PrimaryKeyConstraint("subject_id", "purpose", "channel", name=op.f("pk_consent_states")),
    )
    op.execute(
        "INSERT INTO audit_chain_head (id, events, last_hash) VALUES (2, 0, '" + "0" * 64 + "')"
    )


def downgrade() -> None:
    """Drop the consent tables."""
    op.execute("DELETE FROM audit_chain_head WHERE id = 2")
    op.drop_table("consent_states")
    with op.batch_alter_table("consent_deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_consent_deliveries_open")

    op.drop_table("consent_deliveries")
    with op.batch_alter_table("consent_events", schema=None) as batch_op:
        batch_op.drop_index("ix_consent_events_subject")

    op.drop_table("consent_events")
    op.drop_table("marketing_suppressions")
    with op.batch_alter_table("consent_subjects", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_consent_subjects_person_id"))
        batch_op.drop_index(batch_op.f("ix_consent_subjects_email_sha256"))

    op.drop_table("consent_subjects")
    op.drop_table("consent_purposes")
    op.drop_table("consent_destinations")
