"""The consent ledger and what is derived from it: current state and the suppression list."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from rightful.core.clock import utcnow
from rightful.core.db import Base, UTCDateTime
from rightful.security.vault import sealed


class ConsentPurpose(Base):
    """Something a person can agree to or refuse: a marketing topic, a cookie category,
    targeted advertising, or the sale and sharing of their personal information."""

    __tablename__ = "consent_purposes"

    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # marketing | cookies | advertising | sale_share
    title: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    channels: Mapped[list[Any]] = mapped_column(default=list)
    default: Mapped[str] = mapped_column(String(10), default="withdrawn")
    data_use: Mapped[str | None] = mapped_column(String(120), default=None)
    position: Mapped[int] = mapped_column(default=0)
    cookie_names: Mapped[list[Any]] = mapped_column(default=list)  # removed when withdrawn
    # The organisation's own wording in other languages: {"es": {"title": ..., "description": ...}}
    translations: Mapped[dict[str, Any]] = mapped_column(default=dict)


class BannerText(Base):
    """The organisation's wording of one of the cookie banner's texts in one language; texts it
    does not word come built in (consent/texts.py)."""

    __tablename__ = "consent_banner_texts"

    language: Mapped[str] = mapped_column(String(35), primary_key=True)  # a BCP 47 tag: es, es-MX
    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    text: Mapped[str] = mapped_column(Text)


class ConsentSubject(Base):
    """A person (by e-mail address), a phone number (for texts), or a browser or device (by a
    random id). A number or a device may belong to a person (`person_id`).

    Only hashes are kept for lookups; the address itself is sealed, for propagation and receipts.
    """

    __tablename__ = "consent_subjects"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))  # person | device
    lookup_hash: Mapped[str] = mapped_column(String(64), unique=True)
    email_sha256: Mapped[str | None] = mapped_column(String(64), default=None, index=True)
    sealed_email: Mapped[str | None] = mapped_column(
        Text, default=None, info=sealed("consent-subject")
    )
    sealed_phone: Mapped[str | None] = mapped_column(  # kind "phone", E.164
        Text, default=None, info=sealed("consent-subject")
    )
    person_id: Mapped[str | None] = mapped_column(
        ForeignKey("consent_subjects.id"), default=None, index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ConsentEvent(Base):
    """One choice, given or withdrawn, as it was made: never changed. Its `id` is its arrival
    order; the sequencer later gives it a `position` in the signed log (consent/sequencer.py).
    Events written before the log was a Merkle tree also keep their old chain hashes."""

    __tablename__ = "consent_events"
    __table_args__ = (
        Index("ix_consent_events_subject", "subject_id", "id"),
        Index("ix_consent_events_position", "position", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    uid: Mapped[str] = mapped_column(String(32), unique=True)
    subject_id: Mapped[str] = mapped_column(ForeignKey("consent_subjects.id"))
    purpose: Mapped[str] = mapped_column(String(80))
    channel: Mapped[str] = mapped_column(String(20))
    state: Mapped[str] = mapped_column(String(10))  # given | withdrawn
    interface: Mapped[str] = mapped_column(String(30))
    notice_version: Mapped[str] = mapped_column(String(40))
    jurisdiction: Mapped[str] = mapped_column(String(10))
    proof: Mapped[dict[str, Any]] = mapped_column(default=dict)
    actor: Mapped[str | None] = mapped_column(String(200), default=None)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    position: Mapped[int | None] = mapped_column(default=None)  # None: not sequenced yet
    prev_hash: Mapped[str | None] = mapped_column(String(64), default=None)  # the old chain
    hash: Mapped[str | None] = mapped_column(String(64), default=None)


class ConsentLogNode(Base):
    """The hash of one perfect subtree of the consent log: 2**level entries from position
    number << level (level 0: an entry's leaf hash). Proofs are folded from these."""

    __tablename__ = "consent_log_nodes"

    level: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    number: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    hash: Mapped[str] = mapped_column(String(64))


class ConsentTreeHead(Base):
    """A signed tree head: the log's size and root at one moment, signed (one per batch)."""

    __tablename__ = "consent_tree_heads"

    tree_size: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    root_hash: Mapped[str] = mapped_column(String(64))
    timestamp: Mapped[int] = mapped_column(BigInteger)  # milliseconds since the epoch, as signed
    key_id: Mapped[str] = mapped_column(String(64))
    signature: Mapped[str] = mapped_column(String(200))  # Ed25519, base64


class ConsentSequencer(Base):
    """The one row whose lease a sequencer holds while it sequences (core/claims.py)."""

    __tablename__ = "consent_sequencer"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    claimed_by: Mapped[str | None] = mapped_column(String(40), default=None)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class ConsentState(Base):
    """The latest choice per subject, purpose and channel (rebuildable from the ledger)."""

    __tablename__ = "consent_states"

    subject_id: Mapped[str] = mapped_column(ForeignKey("consent_subjects.id"), primary_key=True)
    purpose: Mapped[str] = mapped_column(String(80), primary_key=True)
    channel: Mapped[str] = mapped_column(String(20), primary_key=True)
    state: Mapped[str] = mapped_column(String(10))
    event_id: Mapped[int] = mapped_column(ForeignKey("consent_events.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class MarketingSuppression(Base):
    """An e-mail address (its SHA-256) that must not get marketing: all of it (`*`) or a topic."""

    __tablename__ = "marketing_suppressions"

    email_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    topic: Mapped[str] = mapped_column(String(80), primary_key=True)
    reason: Mapped[str] = mapped_column(String(30))
    since: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Suppression(Base):
    """A keyed hash of an erased person's e-mail, so later imports can be cleaned again."""

    __tablename__ = "suppressions"

    id: Mapped[int] = mapped_column(primary_key=True)
    identity_hash: Mapped[str] = mapped_column(String(64), unique=True)
    request_id: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ConsentDestination(Base):
    """A system told of every change: a signed webhook, or a field in a connected store."""

    __tablename__ = "consent_destinations"

    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(10))  # webhook | store
    url: Mapped[str | None] = mapped_column(String(500), default=None)
    purposes: Mapped[list[Any]] = mapped_column(default=list)  # empty: every purpose
    target: Mapped[dict[str, Any]] = mapped_column(default=dict)  # store: system/collection/field
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ConsentDelivery(Base):
    """One change on its way to one destination, until the destination acknowledges it."""

    __tablename__ = "consent_deliveries"
    __table_args__ = (
        UniqueConstraint("event_id", "destination_key"),
        Index("ix_consent_deliveries_open", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("consent_events.id"))
    destination_key: Mapped[str] = mapped_column(ForeignKey("consent_destinations.key"))
    status: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_error: Mapped[str | None] = mapped_column(String(300), default=None)
    target_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    alerted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The worker sending it now (core/claims.py): one send per due attempt.
    claimed_by: Mapped[str | None] = mapped_column(String(32), default=None)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class ConsentStoreImport(Base):
    """When a store destination's own records of people's choices are next read into the
    ledger (consent/store_import.py), and what the last read did."""

    __tablename__ = "consent_store_imports"

    destination_key: Mapped[str] = mapped_column(
        ForeignKey("consent_destinations.key"), primary_key=True
    )
    next_run_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    rows_read: Mapped[int] = mapped_column(default=0)
    imported: Mapped[int] = mapped_column(default=0)  # choices recorded by the last run
    kept: Mapped[int] = mapped_column(default=0)  # store values a later choice of the person beat
    last_error: Mapped[str | None] = mapped_column(String(300), default=None)
