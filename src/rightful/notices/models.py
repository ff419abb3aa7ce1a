"""Privacy notice versions: a draft, then published and never changed."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, String, Text, event, inspect
from sqlalchemy.orm import Mapped, mapped_column

from rightful.core.clock import utcnow
from rightful.core.db import Base, UTCDateTime
from rightful.core.errors import ConflictError


class NoticeVersion(Base):
    """One version of the privacy notice. While `draft` its source may be replaced; once
    `published` nothing in the row changes (service.py is the one writer)."""

    __tablename__ = "notice_versions"

    number: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    status: Mapped[str] = mapped_column(String(12), default="draft")  # draft | published
    source: Mapped[str] = mapped_column(Text)  # Markdown with `notice` blocks, as written
    # Frozen at publishing: the blocks as filled from the data map then, and the text shown.
    blocks: Mapped[list[Any]] = mapped_column(default=list)
    rendered: Mapped[str] = mapped_column(Text, default="")
    material: Mapped[bool] = mapped_column(default=False)
    change_summary: Mapped[str] = mapped_column(Text, default="")
    effective_on: Mapped[date | None] = mapped_column(Date, default=None)
    last_updated_on: Mapped[date | None] = mapped_column(Date, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(200))
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    published_by: Mapped[str | None] = mapped_column(String(200), default=None)
    # The people told of a material change (a count; who they are stays in the outbox).
    told: Mapped[int] = mapped_column(default=0)


@event.listens_for(NoticeVersion, "before_update")
def _published_never_changes(_mapper: Any, _connection: Any, target: NoticeVersion) -> None:
    """A published version is what people read: any change to it is refused, whoever tries."""
    was = inspect(target).attrs.status.history
    if "published" in (*was.unchanged, *was.deleted):
        raise ConflictError(f"Notice version {target.number} is published and cannot change.")
