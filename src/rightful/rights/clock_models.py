"""The clocks' own records: reminders claimed before they are sent, and appeals."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from rightful.core.clock import utcnow
from rightful.core.db import Base, UTCDateTime
from rightful.security.vault import sealed


class DueNotice(Base):
    """One reminder, escalation or digest, claimed before it is sent: the unique key makes it
    happen once however many workers run (a reminder once per due date, an escalation and the
    digest once per day)."""

    __tablename__ = "due_notices"
    __table_args__ = (UniqueConstraint("subject", "kind", "due", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # A request's or an appeal's id, or "digest".
    subject: Mapped[str] = mapped_column(String(40))
    # acknowledge_reminder | respond_reminder | appeal_reminder | ..._overdue | digest
    kind: Mapped[str] = mapped_column(String(30))
    due: Mapped[date]
    day: Mapped[date]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Appeal(Base):
    """A person's appeal of a denial or a partial answer: a case with its own clock, decided by
    someone other than the first decider (rights/appeals.py)."""

    __tablename__ = "appeals"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    request_id: Mapped[str] = mapped_column(
        ForeignKey("rights_requests.id", ondelete="CASCADE"), unique=True
    )
    # open -> decided
    status: Mapped[str] = mapped_column(String(12), default="open", index=True)
    reason: Mapped[str] = mapped_column(Text, info=sealed("appeals"))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    due: Mapped[date]
    decided_by: Mapped[str | None] = mapped_column(String(200), default=None)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    # upheld (the first decision stands) | reversed | partly
    outcome: Mapped[str | None] = mapped_column(String(10), default=None)
    written_outcome: Mapped[str | None] = mapped_column(Text, default=None, info=sealed("appeals"))
    # The one extension some laws allow (Colorado: 60 more days), told to the person in time.
    extended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    extended_by: Mapped[str | None] = mapped_column(String(200), default=None)
    extension_reason: Mapped[str | None] = mapped_column(Text, default=None)
