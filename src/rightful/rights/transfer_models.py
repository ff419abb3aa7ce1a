"""A portable copy sent to another organisation the person named (rights/transfers.py)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from rightful.core.clock import utcnow
from rightful.core.db import Base, UTCDateTime
from rightful.security.vault import sealed


class PortabilityTransfer(Base):
    """One transfer: whom it goes to (sealed), the person's confirmation, each attempt and the
    outcome. Claimed in the database before anything is sent, so it goes out once."""

    __tablename__ = "portability_transfers"
    __table_args__ = (Index("ix_portability_transfers_status", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # The transfer's public id: the Idempotency-Key of its POST and the subject of its links.
    uid: Mapped[str] = mapped_column(String(32), unique=True)
    request_id: Mapped[str] = mapped_column(
        ForeignKey("rights_requests.id", ondelete="CASCADE"), unique=True
    )
    channel: Mapped[str] = mapped_column(String(10))  # email | endpoint
    # {"name": organisation, "to": e-mail address or https URL}: personal data, sealed.
    recipient: Mapped[str] = mapped_column(Text, info=sealed("identities"))
    # awaiting_confirmation -> confirmed -> sending -> sent -> downloaded (e-mail)
    #                                    -> accepted (endpoint)
    # or failed, cancelled (the person said no, or the request closed), expired (the
    # package's time ran out before the person confirmed).
    status: Mapped[str] = mapped_column(String(24), default="awaiting_confirmation")
    confirmation_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    http_status: Mapped[int | None] = mapped_column(default=None)
    last_error: Mapped[str | None] = mapped_column(String(200), default=None)
    message_id: Mapped[int | None] = mapped_column(default=None)  # the recipient's e-mail
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    downloaded_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    downloads: Mapped[int] = mapped_column(default=0)
    person_told_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    # The worker sending it now (core/claims.py): one POST or e-mail per due attempt.
    claimed_by: Mapped[str | None] = mapped_column(String(32), default=None)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
