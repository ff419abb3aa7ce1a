"""Carrying each change to the company's other systems, and tracking their acknowledgements.

Every event is queued once per destination that wants its purpose, inside the transaction that
wrote the event, so a crash never loses a change. Delivery runs in the worker (see deliver.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from rightful.consent import snapshot
from rightful.consent.models import (
    ConsentDelivery,
    ConsentDestination,
    ConsentEvent,
    ConsentState,
)
from rightful.consent.snapshot import Route
from rightful.core.calendar import add_business_days
from rightful.core.clock import utcnow
from rightful.core.errors import ConflictError, NotFoundError

TARGET_HOURS = 48  # what we aim for
LEGAL_BUSINESS_DAYS = 10  # what the statement promises at most


def _due(now_date_days: int) -> timedelta:
    today = utcnow().date()
    return add_business_days(today, now_date_days) - today


def enqueue(
    session: Session, events: list[ConsentEvent], routes: Sequence[Route] | None = None
) -> list[ConsentDelivery]:
    """One delivery per event and interested destination: `routes`, or every active one (flushes
    only)."""
    if not events:
        return []
    if routes is None:
        routes = snapshot.current(session).routes
    wanted = [(e, r) for e in events for r in routes if r.wants(e.purpose, e.channel)]
    if not wanted:
        return []
    now = utcnow()
    due = now + _due(LEGAL_BUSINESS_DAYS)
    made = [
        ConsentDelivery(
            event_id=event.id,
            destination_key=route.key,
            next_attempt_at=now,
            target_at=now + timedelta(hours=TARGET_HOURS),
            due_at=due,
        )
        for event, route in wanted
    ]
    session.add_all(made)
    session.flush()
    return made


def replay(session: Session, destination_key: str, *, batch: int = 1000) -> int:
    """Queue everyone's latest choices for one destination, e.g. a system just connected, so
    it learns of choices made before it was; what it already has is skipped. Returns how many."""
    destination = session.get(ConsentDestination, destination_key)
    if destination is None:
        raise NotFoundError(f"There is no destination '{destination_key}'.")
    if not destination.active:
        raise ConflictError(f"Destination '{destination_key}' is switched off.")
    known = select(ConsentDelivery.event_id).where(
        ConsentDelivery.destination_key == destination_key
    )
    stmt = (
        select(ConsentEvent)
        .join(ConsentState, ConsentState.event_id == ConsentEvent.id)
        .where(ConsentEvent.id.not_in(known))
        .order_by(ConsentEvent.id)
    )
    latest = list(session.scalars(stmt))
    queued = 0
    for start in range(0, len(latest), batch):
        route = [snapshot.route_of(destination)]
        queued += len(enqueue(session, latest[start : start + batch], route))
    return queued
