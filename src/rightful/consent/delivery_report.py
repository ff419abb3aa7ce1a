"""Propagation at a glance, for the console, the API and the CLI: counts per destination and
status, and the deliveries past the 48-hour aim or the legal deadline (reads only; no personal
data)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from rightful.consent.destinations import OPEN_STATUSES
from rightful.consent.models import ConsentDelivery, ConsentDestination, ConsentEvent
from rightful.consent.propagation import LEGAL_BUSINESS_DAYS, TARGET_HOURS
from rightful.core.clock import utcnow

LIST_LIMIT = 200


@dataclass(frozen=True)
class OpenDelivery:
    """A delivery still waiting for its destination, as staff see it (no personal data)."""

    id: int
    destination_key: str
    event_uid: str
    purpose: str
    channel: str
    status: str
    attempts: int
    last_error: str | None
    created_at: datetime
    target_at: datetime
    due_at: datetime


@dataclass(frozen=True)
class DestinationStatus:
    """How one destination is keeping up."""

    key: str
    name: str
    kind: str
    active: bool
    counts: dict[str, int]  # status → deliveries
    late: int  # unacknowledged past the 48-hour aim, not yet overdue
    overdue: int  # unacknowledged past the legal deadline


@dataclass(frozen=True)
class DeliverySummary:
    """Propagation at a glance, for the console and the API."""

    destinations: list[DestinationStatus]
    late: list[OpenDelivery]
    overdue: list[OpenDelivery]
    target_hours: int = TARGET_HOURS
    legal_business_days: int = LEGAL_BUSINESS_DAYS


def _open_deliveries(session: Session, *, overdue: bool) -> list[OpenDelivery]:
    now = utcnow()
    when = (
        ConsentDelivery.due_at <= now
        if overdue
        else (ConsentDelivery.target_at <= now) & (ConsentDelivery.due_at > now)
    )
    stmt = (
        select(ConsentDelivery, ConsentEvent)
        .join(ConsentEvent, ConsentEvent.id == ConsentDelivery.event_id)
        .where(ConsentDelivery.status.in_(OPEN_STATUSES), when)
        .order_by(ConsentDelivery.due_at, ConsentDelivery.id)
        .limit(LIST_LIMIT)
    )
    return [
        OpenDelivery(
            d.id,
            d.destination_key,
            e.uid,
            e.purpose,
            e.channel,
            d.status,
            d.attempts,
            d.last_error,
            d.created_at,
            d.target_at,
            d.due_at,
        )
        for d, e in session.execute(stmt)
    ]


def _counts(session: Session) -> dict[str, dict[str, int]]:
    rows = session.execute(
        select(ConsentDelivery.destination_key, ConsentDelivery.status, func.count()).group_by(
            ConsentDelivery.destination_key, ConsentDelivery.status
        )
    )
    out: dict[str, dict[str, int]] = {}
    for key, status, count in rows:
        out.setdefault(key, {})[status] = count
    return out


def _past(session: Session, column: InstrumentedAttribute[datetime]) -> dict[str, int]:
    """Unacknowledged deliveries per destination whose `column` moment has passed."""
    rows = session.execute(
        select(ConsentDelivery.destination_key, func.count())
        .where(ConsentDelivery.status.in_(OPEN_STATUSES), column <= utcnow())
        .group_by(ConsentDelivery.destination_key)
    )
    return {key: count for key, count in rows}


def delivery_summary(session: Session) -> DeliverySummary:
    """Counts per destination and status, and the late and overdue deliveries (reads only)."""
    counts = _counts(session)
    past_target = _past(session, ConsentDelivery.target_at)
    past_due = _past(session, ConsentDelivery.due_at)
    destinations = [
        DestinationStatus(
            d.key,
            d.name,
            d.kind,
            d.active,
            counts.get(d.key, {}),
            past_target.get(d.key, 0) - past_due.get(d.key, 0),
            past_due.get(d.key, 0),
        )
        for d in session.scalars(select(ConsentDestination).order_by(ConsentDestination.key))
    ]
    return DeliverySummary(
        destinations,
        _open_deliveries(session, overdue=False),
        _open_deliveries(session, overdue=True),
    )
