"""Carrying each change to the company's other systems, and tracking their acknowledgements.

Every event is queued once per destination that wants its purpose, inside the transaction that
wrote the event, so a crash never loses a change. Delivery runs in the worker (see deliver.py).
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from rightful.consent.destinations import wants
from rightful.consent.models import ConsentDelivery, ConsentDestination, ConsentEvent
from rightful.core.clock import utcnow
from rightful.rights import deadlines

TARGET_HOURS = 48  # what we aim for
LEGAL_BUSINESS_DAYS = 10  # what the statement promises at most


def _due(now_date_days: int) -> timedelta:
    today = utcnow().date()
    return deadlines.add_business_days(today, now_date_days) - today


def enqueue(session: Session, events: list[ConsentEvent]) -> list[ConsentDelivery]:
    """One delivery per event and interested active destination (flushes only)."""
    if not events:
        return []
    destinations = list(
        session.scalars(select(ConsentDestination).where(ConsentDestination.active.is_(True)))
    )
    now = utcnow()
    due = now + _due(LEGAL_BUSINESS_DAYS)
    made = []
    for event in events:
        for dest in destinations:
            if not wants(dest, event):
                continue
            made.append(
                ConsentDelivery(
                    event_id=event.id,
                    destination_key=dest.key,
                    next_attempt_at=now,
                    target_at=now + timedelta(hours=TARGET_HOURS),
                    due_at=due,
                )
            )
    session.add_all(made)
    session.flush()
    return made
