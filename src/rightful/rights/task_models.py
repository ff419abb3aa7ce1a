"""Manual tasks: a person's share of work in a system Rightful cannot reach itself."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from rightful.core.clock import utcnow
from rightful.core.db import Base, UTCDateTime
from rightful.security.vault import sealed


class ManualTask(Base):
    """What a system's owner must look up or erase for one request, and what they did.

    `instructions` say what to do per collection (names, fields, the policy's action, never a
    person's data); who it is for is sealed in `subject` and dropped when the task closes. What
    the owner found is sealed in `findings` until the request's package expires.
    """

    __tablename__ = "manual_tasks"
    __table_args__ = (
        UniqueConstraint("request_id", "system"),
        Index("ix_manual_tasks_status_owner", "status", "owner"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    request_id: Mapped[str] = mapped_column(
        ForeignKey("rights_requests.id", ondelete="CASCADE"), index=True
    )
    system: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(10))  # lookup | erase
    # open -> done | waived
    status: Mapped[str] = mapped_column(String(10), default="open")
    owner: Mapped[str | None] = mapped_column(String(254), default=None)
    instructions: Mapped[list[Any]] = mapped_column(default=list)
    subject: Mapped[str | None] = mapped_column(Text, default=None, info=sealed("tasks"))
    # found | nothing_found (lookup); deleted | nothing_held (erase)
    outcome: Mapped[str | None] = mapped_column(String(20), default=None)
    findings: Mapped[str | None] = mapped_column(Text, default=None, info=sealed("tasks"))
    # The owner's note confirming a deletion: for the record, never sent to the person.
    note: Mapped[str | None] = mapped_column(Text, default=None, info=sealed("tasks"))
    # Why the task was waived: the person reads it in their answer.
    reason: Mapped[str | None] = mapped_column(Text, default=None)
    evidence_id: Mapped[str | None] = mapped_column(String(32), default=None)
    completed_by: Mapped[str | None] = mapped_column(String(200), default=None)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
