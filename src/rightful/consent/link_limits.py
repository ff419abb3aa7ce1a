"""Limits on the links the public consent pages e-mail, counted in the database.

The count lives in Rightful's store, not a process's memory, so every server process (and a
restart) shares one limit. Only keyed hashes are kept, never an address or a client's IP, and
rows older than a day are removed by the worker's housekeeping.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import String, delete, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from rightful.core.clock import utcnow
from rightful.core.config import Settings
from rightful.core.db import Base, UTCDateTime
from rightful.core.errors import RateLimitedError
from rightful.security.vault import keyed_hash

PER_CLIENT_PER_HOUR = 10
PER_ADDRESS_PER_HOUR = 3
KEPT = timedelta(days=1)


class ConsentLinkSent(Base):
    """One link e-mailed from a public page: who asked (hashed) and for which address (hashed)."""

    __tablename__ = "consent_links_sent"

    id: Mapped[int] = mapped_column(primary_key=True)
    address_hash: Mapped[str] = mapped_column(String(64), index=True)
    client_hash: Mapped[str] = mapped_column(String(64), index=True)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


def _count(session: Session, column: Mapped[str], value: str, since: datetime) -> int:
    found = session.scalar(
        select(func.count())
        .select_from(ConsentLinkSent)
        .where(column == value, ConsentLinkSent.sent_at > since)
    )
    return int(found or 0)


def may_send(session: Session, settings: Settings, *, address: str, client: str | None) -> bool:
    """Count a link for `address` asked from `client` (flushes only).

    A connection asking too often is refused and told (RateLimitedError); an address asked for
    too often is quietly skipped (False), so the page's answer never differs by address. A
    trusted caller (`client` None: an API token, whose one server speaks for many people) has
    only the per-address limit."""
    address_hash = keyed_hash(settings.secret_key, "consent-link", address)
    client_hash = keyed_hash(settings.secret_key, "consent-link-client", client or "trusted")
    since = utcnow() - timedelta(hours=1)
    per_client = _count(session, ConsentLinkSent.client_hash, client_hash, since) if client else 0
    if per_client >= PER_CLIENT_PER_HOUR:
        raise RateLimitedError("Too many links were asked for from this connection. Try later.")
    sent_to = _count(session, ConsentLinkSent.address_hash, address_hash, since)
    # Counted even when skipped: the connection asked, and that is what its limit is about.
    session.add(ConsentLinkSent(address_hash=address_hash, client_hash=client_hash))
    session.flush()
    return sent_to < PER_ADDRESS_PER_HOUR


def forget_old(session: Session) -> int:
    """Remove counts older than a day (housekeeping); returns how many went."""
    result = session.execute(
        delete(ConsentLinkSent).where(ConsentLinkSent.sent_at < utcnow() - KEPT)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
