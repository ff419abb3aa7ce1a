"""Rights requests and the recorded steps of their execution."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from rightful.core.clock import utcnow
from rightful.core.db import Base, UTCDateTime
from rightful.security.vault import sealed


class RightsRequest(Base):
    """A consumer's request; personal data lives only in the encrypted `identities`."""

    __tablename__ = "rights_requests"
    __table_args__ = (Index("ix_rights_status", "status"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    reference: Mapped[str] = mapped_column(String(20), unique=True)
    request_type: Mapped[str] = mapped_column(String(30))
    status: Mapped[str] = mapped_column(String(30))
    channel: Mapped[str] = mapped_column(String(20), default="web")
    # The language the person asked in; their e-mails are written in it (core/i18n.py).
    language: Mapped[str] = mapped_column(String(16), default="en", server_default="en")
    jurisdiction: Mapped[str] = mapped_column(String(10))
    by_agent: Mapped[bool] = mapped_column(default=False)
    # Who filed it: the person themself, an authorized agent, or a parent or guardian for a
    # child (rights/agents.py). An agent's or parent's own name and e-mail are sealed apart.
    requester_role: Mapped[str] = mapped_column(String(10), default="self", server_default="self")
    requester: Mapped[str | None] = mapped_column(Text, default=None, info=sealed("identities"))
    # not_asked -> asked -> confirmed | refused: the consumer confirming an agent's request.
    consumer_confirmation: Mapped[str] = mapped_column(
        String(12), default="not_asked", server_default="not_asked"
    )
    permission_checked_by: Mapped[str | None] = mapped_column(String(200), default=None)
    permission_checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    # How staff checked the identity of someone who wrote or called (rights/intake.py).
    identity_method: Mapped[str | None] = mapped_column(String(30), default=None)
    identity_checked_by: Mapped[str | None] = mapped_column(String(200), default=None)
    identity_checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    identity_note: Mapped[str | None] = mapped_column(Text, default=None, info=sealed("identities"))
    # "email", or "post" for a person without an e-mail address: letters are printed.
    reply_by: Mapped[str] = mapped_column(String(10), default="email", server_default="email")
    date_from: Mapped[date | None] = mapped_column(default=None)
    date_to: Mapped[date | None] = mapped_column(default=None)
    identities: Mapped[str] = mapped_column(Text, info=sealed("identities"))
    email_hash: Mapped[str] = mapped_column(String(64), index=True)
    required_level: Mapped[int] = mapped_column(default=0)
    verification_level: Mapped[int] = mapped_column(default=0)
    declaration: Mapped[str | None] = mapped_column(Text, default=None)
    declaration_signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    acknowledge_due: Mapped[date]
    respond_due: Mapped[date]
    extension_reason: Mapped[str | None] = mapped_column(Text, default=None)
    denial_reason: Mapped[str | None] = mapped_column(Text, default=None)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    minimised_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    # The worker holding the lease (core/claims.py): freed early when its heartbeat stops.
    lease_holder: Mapped[str | None] = mapped_column(String(32), default=None)
    package_file: Mapped[str | None] = mapped_column(String(300), default=None)
    package_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    summary: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class RequestPolicy(Base):
    """The policy staff signed off for a request type, stored as its YAML text."""

    __tablename__ = "request_policies"

    request_type: Mapped[str] = mapped_column(String(30), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    document: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    last_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class ErasureStep(Base):
    """One system's share of an erasure: the planned changes until done, then only counts."""

    __tablename__ = "erasure_steps"
    __table_args__ = (UniqueConstraint("request_id", "system"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[str] = mapped_column(ForeignKey("rights_requests.id", ondelete="CASCADE"))
    system: Mapped[str] = mapped_column(String(100))
    position: Mapped[int]
    # Encrypted planned changes; dropped once applied, so the record keeps no erased data.
    changes: Mapped[str | None] = mapped_column(Text, default=None, info=sealed("erasure"))
    report: Mapped[list[Any]] = mapped_column(default=list)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    # The earliest end of a legal period for rows kept; None when nothing is left to destroy.
    retained_until: Mapped[date | None] = mapped_column(default=None, index=True)


class PartnerNotice(Base):
    """A business partner told to delete a person's data, and whether they confirmed."""

    __tablename__ = "partner_notices"
    __table_args__ = (UniqueConstraint("request_id", "partner_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[str] = mapped_column(ForeignKey("rights_requests.id", ondelete="CASCADE"))
    partner_key: Mapped[str] = mapped_column(String(100))
    channel: Mapped[str] = mapped_column(String(20))
    # pending (to send) -> sent (waiting for an answer) -> acknowledged | waived; failed
    status: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    reminders: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    due: Mapped[date]
    last_error: Mapped[str | None] = mapped_column(String(200), default=None)
    # Staff's own note (why confirmation is impossible): internal, never sent to the person.
    note: Mapped[str | None] = mapped_column(Text, default=None)
    # What the person is told instead, in their completion e-mail (CCPA §7022(b)(3)).
    explanation: Mapped[str | None] = mapped_column(Text, default=None)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    # The worker sending it now (core/claims.py): one POST or e-mail per due send.
    claimed_by: Mapped[str | None] = mapped_column(String(32), default=None)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class ExecutionStep(Base):
    """One collection read for one request; done steps are never run twice."""

    __tablename__ = "execution_steps"
    __table_args__ = (UniqueConstraint("request_id", "address"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[str] = mapped_column(ForeignKey("rights_requests.id", ondelete="CASCADE"))
    address: Mapped[str] = mapped_column(String(250))
    row_count: Mapped[int] = mapped_column(default=0)
    # Encrypted JSON of the rows found; deleted with the package when it expires.
    result: Mapped[str | None] = mapped_column(Text, default=None, info=sealed("execution"))
    finished_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
