"""Limits on the e-mail people outside the company can make Rightful send, counted in the database.

Every form or API call that e-mails an address someone typed asks here first: at most so many
asks an hour for one address (so nobody can turn Rightful into a cannon aimed at a stranger's
inbox) and from one client address (so one connection cannot spread the same over many
addresses). The count lives in Rightful's store, not a process's memory, so every server process
(and a restart) shares one limit. Only keyed hashes are kept, never an address or a client's IP,
and rows older than a day are removed by the worker's housekeeping.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Index, Insert, Select, String, delete, func, insert, literal, or_, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from rightful.core.clock import utcnow
from rightful.core.config import Settings
from rightful.core.db import Base, UTCDateTime
from rightful.core.errors import RateLimitedError
from rightful.core.i18n import N_
from rightful.security.vault import keyed_hash

KEPT = timedelta(days=1)
WINDOW = timedelta(hours=1)


@dataclass(frozen=True)
class MailLimit:
    """What is counted together, and how many asks an hour each address and client may make."""

    kind: str
    per_address: int
    per_client: int
    client_message: str = N_("Too many e-mails were asked for from this connection. Try later.")
    address_message: str = N_("Too many e-mails were sent to this address. Try again in an hour.")


# Preference-center links, list-removal links and double opt-in confirmations share one count.
CONSENT_LINKS = MailLimit(
    "consent-link",
    per_address=3,
    per_client=10,
    client_message=N_("Too many links were asked for from this connection. Try later."),
)
# The record of a person's choices, e-mailed from the preference center to its own address.
CONSENT_RECEIPTS = MailLimit("consent-receipt", per_address=3, per_client=10)


def rights_requests(settings: Settings) -> MailLimit:
    """Rights requests filed for one address (each sends it e-mail), as the operator set them."""
    return MailLimit(
        "rights-request",
        per_address=settings.requests_per_address_per_hour,
        per_client=settings.requests_per_client_per_hour,
        client_message=N_("Too many requests were sent from this connection. Try again later."),
        address_message=N_(
            "We have had several requests for this e-mail address in the last "
            "hour, so we are not sending it more e-mail now. Try again in an hour."
        ),
    )


class MailAsk(Base):
    """One ask to e-mail an address: what kind, for which address and from which client
    (both as keyed hashes)."""

    __tablename__ = "mail_asks"
    __table_args__ = (
        Index("ix_mail_asks_address_time", "address_hash", "asked_at"),
        Index("ix_mail_asks_client_time", "client_hash", "asked_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    address_hash: Mapped[str] = mapped_column(String(64))
    client_hash: Mapped[str] = mapped_column(String(64))
    asked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


def _recent(session: Session, address_hash: str, client_hash: str) -> tuple[int, int]:
    """Asks in the last hour for this address, and from this client (one query)."""
    return _counts(session, _counted(address_hash, client_hash))


def _counted(address_hash: str, client_hash: str) -> Select[int, int]:
    to_address = MailAsk.address_hash == address_hash
    from_client = MailAsk.client_hash == client_hash
    return select(func.count().filter(to_address), func.count().filter(from_client)).where(
        or_(to_address, from_client), MailAsk.asked_at > utcnow() - WINDOW
    )


def _counts(session: Session, query: Select[int, int]) -> tuple[int, int]:
    row = session.execute(query).one()
    return int(row[0] or 0), int(row[1] or 0)


def _count_and_ask(
    session: Session, limit: MailLimit, address_hash: str, client_hash: str, client: str | None
) -> tuple[int, int]:
    """`_recent`, and the ask recorded unless the client is over its limit, in one statement:
    the insert rides in the count's WITH (PostgreSQL), whose count does not see it, so the
    numbers are those from before the ask, as in two statements."""
    return _counts(session, _asking(limit, address_hash, client_hash, client))


def _asking(
    limit: MailLimit, address_hash: str, client_hash: str, client: str | None
) -> Select[int, int]:
    since = utcnow() - WINDOW
    row = select(
        literal(limit.kind), literal(address_hash), literal(client_hash), literal(utcnow())
    )
    if client:  # as in `may_send`: an ask from a client over its limit is refused, not counted
        recent = select(func.count()).where(
            MailAsk.client_hash == client_hash, MailAsk.asked_at > since
        )
        row = row.where(recent.scalar_subquery() < limit.per_client)
    columns = ["kind", "address_hash", "client_hash", "asked_at"]
    ask = insert(MailAsk).from_select(columns, row).cte("ask")
    return _counted(address_hash, client_hash).add_cte(ask)


def _hashes(
    settings: Settings, limit: MailLimit, address: str, client: str | None
) -> tuple[str, str]:
    # The hash purposes are the kind's name, so the consent-link counts kept before this
    # module existed (the same purposes) still count after the upgrade.
    return (
        keyed_hash(settings.secret_key, limit.kind, address),
        keyed_hash(settings.secret_key, f"{limit.kind}-client", client or "trusted"),
    )


@dataclass(frozen=True)
class Asked:
    """An ask counted by `ask_along`, to be judged as `check` judges it."""

    limit: MailLimit
    client: str | None
    sent_to: int
    per_client: int

    def check(self) -> None:
        """Refuse (RateLimitedError) as `check` would have: the client first, then the address."""
        if self.client and self.per_client >= self.limit.per_client:
            raise RateLimitedError(self.limit.client_message)
        if self.sent_to >= self.limit.per_address:
            raise RateLimitedError(self.limit.address_message)


def ask_along(
    session: Session,
    settings: Settings,
    limit: MailLimit,
    *,
    address: str,
    client: str | None,
    along: Insert,
) -> tuple[Asked, Any]:
    """Count one ask as `check` does, with `along` (the caller's INSERT ... RETURNING of one
    column) in the same statement, on PostgreSQL: one statement where they took two. Returns
    the ask, for the caller to judge (`Asked.check`) after its own checks, and what `along`
    returned (None when it inserted nothing)."""
    address_hash, client_hash = _hashes(settings, limit, address, client)
    added = along.cte("along")
    query = _asking(limit, address_hash, client_hash, client).add_cte(added)
    row = session.execute(query.add_columns(select(added).scalar_subquery())).one()
    return Asked(limit, client, int(row[0] or 0), int(row[1] or 0)), row[2]


def may_send(
    session: Session, settings: Settings, limit: MailLimit, *, address: str, client: str | None
) -> bool:
    """Count one ask to e-mail `address` from `client` (flushes only).

    A client asking too often is refused and told (RateLimitedError); an address asked for too
    often gives False, and the caller decides whether to skip quietly (a page whose answer must
    not differ by address) or refuse (`check`). A trusted caller (`client` None: an API token,
    staff, the CLI, whose one server speaks for many people) has only the per-address limit."""
    address_hash, client_hash = _hashes(settings, limit, address, client)
    if session.get_bind().dialect.name == "postgresql":
        sent_to, per_client = _count_and_ask(session, limit, address_hash, client_hash, client)
        if client and per_client >= limit.per_client:
            raise RateLimitedError(limit.client_message)
        return sent_to < limit.per_address
    sent_to, per_client = _recent(session, address_hash, client_hash)
    if client and per_client >= limit.per_client:
        raise RateLimitedError(limit.client_message)
    # Counted even when over: the client asked, and that is what its limit is about.
    session.add(MailAsk(kind=limit.kind, address_hash=address_hash, client_hash=client_hash))
    session.flush()
    return sent_to < limit.per_address


def check(
    session: Session, settings: Settings, limit: MailLimit, *, address: str, client: str | None
) -> None:
    """Count one ask like `may_send`, and refuse (RateLimitedError) when the address is over."""
    if not may_send(session, settings, limit, address=address, client=client):
        raise RateLimitedError(limit.address_message)


def forget_old(session: Session) -> int:
    """Remove counts older than a day (housekeeping); returns how many went."""
    result = session.execute(delete(MailAsk).where(MailAsk.asked_at < utcnow() - KEPT))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
