"""Cases, their messages, and the mailbox's reading position with its per-message claims."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from rightful.core.clock import utcnow
from rightful.core.db import Base, UTCDateTime
from rightful.security.vault import sealed


class Case(Base):
    """Something the privacy office received; who sent it and what it says are sealed."""

    __tablename__ = "cases"
    __table_args__ = (Index("ix_cases_status", "status"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    reference: Mapped[str] = mapped_column(String(20), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20))
    channel: Mapped[str] = mapped_column(String(10))
    language: Mapped[str] = mapped_column(String(16), default="en")
    # The request type the words suggest (casework/classify.py), and the one confirmed by the
    # person or by staff; a rights request is opened only from a confirmed type.
    suggested_type: Mapped[str | None] = mapped_column(String(30), default=None)
    confirmed_type: Mapped[str | None] = mapped_column(String(30), default=None)
    request_id: Mapped[str | None] = mapped_column(String(32), default=None, index=True)
    assigned_to: Mapped[str | None] = mapped_column(String(200), default=None)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    respond_due: Mapped[date]
    # {"email", "name"}: sealed; the keyed hash finds a sender's cases without the address.
    sender: Mapped[str] = mapped_column(Text, info=sealed("cases"))
    sender_hash: Mapped[str] = mapped_column(String(64), index=True)
    subject: Mapped[str | None] = mapped_column(Text, default=None, info=sealed("cases"))
    outcome: Mapped[str | None] = mapped_column(String(30), default=None)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    # When what the person wrote was destroyed (RIGHTFUL_RECORDS_RETENTION_DAYS after closing).
    minimised_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class CaseMessage(Base):
    """One message in a case's thread, in (from the person) or out (from staff)."""

    __tablename__ = "case_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    direction: Mapped[str] = mapped_column(String(3))  # in | out
    # {"text", "headers": {...}}: sealed like the sender.
    body: Mapped[str] = mapped_column(Text, info=sealed("cases"))
    # A keyed hash of the Message-ID: finds duplicates and the case a reply belongs to.
    message_hash: Mapped[str | None] = mapped_column(String(64), default=None, index=True)
    author: Mapped[str] = mapped_column(String(200), default="")
    notes: Mapped[str] = mapped_column(Text, default="")  # e.g. an attachment refused, no PII
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class MailboxState(Base):
    """Where reading one mailbox folder has got to (a keyed hash names it)."""

    __tablename__ = "mailbox_state"

    mailbox: Mapped[str] = mapped_column(String(64), primary_key=True)
    uidvalidity: Mapped[int]
    last_uid: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class MailboxClaim(Base):
    """One message of the mailbox: claimed by a worker, then done in the transaction that
    stores what it made; a claim whose worker died is taken over when it runs out."""

    __tablename__ = "mailbox_claims"
    __table_args__ = (UniqueConstraint("mailbox", "uidvalidity", "uid"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    mailbox: Mapped[str] = mapped_column(String(64))
    uidvalidity: Mapped[int]
    uid: Mapped[int]
    status: Mapped[str] = mapped_column(String(10), default="claimed")  # claimed | done | failed
    claimed_until: Mapped[datetime] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(default=1)
    # new_case | threaded | automatic | duplicate | unreadable: never personal data.
    outcome: Mapped[str | None] = mapped_column(String(20), default=None)
    case_id: Mapped[str | None] = mapped_column(String(32), default=None)
    seen: Mapped[bool] = mapped_column(default=False)  # \Seen set on the server
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
