"""Which requests came in by bulk intake, under whose reference (rights/bulk.py)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from rightful.core.clock import utcnow
from rightful.core.db import Base, UTCDateTime


class ImportedRequest(Base):
    """One line of a batch that became a request: the sender's own reference for it (an
    authorized-agent service's, a previous tool's), so the same line sent again is recognised
    and not filed twice. Holds no personal data."""

    __tablename__ = "imported_requests"
    # The idempotency key: one reference per source (two agent services may both use "1001").
    __table_args__ = (UniqueConstraint("source", "external_id", name="uq_imported_source_ref"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(100))
    external_id: Mapped[str] = mapped_column(String(200))
    # Kept when the request's row is purged with its retention period: a re-sent line still
    # reports the request it became instead of filing a new one.
    request_id: Mapped[str | None] = mapped_column(
        ForeignKey("rights_requests.id", ondelete="SET NULL"), default=None
    )
    reference: Mapped[str] = mapped_column(String(20))
    imported_by: Mapped[str] = mapped_column(String(200))
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
