"""Delivering consent changes to their destinations, and tracking each until it is acknowledged.

A worker claims due deliveries in the database before sending (core/claims.py, as partner
notices are): one worker wins each, and one that dies mid-send loses its claims as soon as its
heartbeat stops, so another sends them. Outcomes are written only while the claim holds, so an
acknowledgement is recorded and audited once. A webhook gets a signed POST (signed as partner
erasure notices are) and a 2xx acknowledges it; a store is written through its connector.
Failures are retried with exponential backoff. A worker killed between sending and recording
the answer means a second delivery, so the event uid travels as an idempotency key.
Deliveries past the legal deadline are overdue and staff are told once.

A delivery's whole life (claim, send, retry, overdue) reads in one module; the summary staff
read is in delivery_report.py (`delivery_summary` is also importable from here).
"""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import ColumnElement, and_, select, update
from sqlalchemy.orm import Session

from rightful.consent import store_import, subjects
from rightful.consent.delivery_report import delivery_summary as delivery_summary
from rightful.consent.destinations import OPEN_STATUSES, destination_secret
from rightful.consent.models import (
    ConsentDelivery,
    ConsentDestination,
    ConsentEvent,
    ConsentSubject,
)
from rightful.consent.propagation import LEGAL_BUSINESS_DAYS
from rightful.consent.store_sync import sync_person
from rightful.core import claims
from rightful.core.clock import utcnow
from rightful.core.config import Settings
from rightful.core.errors import ConflictError, ConnectorError, NotFoundError
from rightful.core.urls import webhook_problem
from rightful.messaging.service import queue_email
from rightful.security import audit
from rightful.security.signing import signature

if TYPE_CHECKING:
    import httpx

TIMEOUT_SECONDS = 10.0
MAX_BACKOFF_MINUTES = 360
# At the longest backoff this keeps trying for about 18 days: past the legal deadline, where
# staff have been alerted and decide (`redeliver` once the destination is fixed).
MAX_ATTEMPTS = 80
RETRYING = ("pending", "overdue")


def backoff(attempts: int) -> timedelta:
    """How long to wait after the n-th failed attempt: 1, 2, 4 … minutes, at most 6 hours."""
    return timedelta(minutes=min(2 ** max(attempts - 1, 0), MAX_BACKOFF_MINUTES))


def webhook_payload(
    settings: Settings, event: ConsentEvent, subject: ConsentSubject, *, include_email: bool
) -> dict[str, object]:
    """The JSON a webhook destination receives (docs/consent-propagation.md)."""
    who: dict[str, object] = {"id": subject.id, "device": subject.kind == "device"}
    if subject.kind == "person":
        who["email_sha256"] = subject.email_sha256
        email = subjects.email_of(settings, subject) if include_email else None
        if email:
            who["email"] = email
    elif subject.kind == "phone" and include_email:  # an SMS platform needs the number itself
        who["phone"] = subjects.phone_of(settings, subject)
    return {
        "type": "consent.changed",
        "id": event.uid,
        "sequence": event.id,  # grows with every change: apply a change only if it is newer
        "purpose": event.purpose,
        "channel": event.channel,
        "state": event.state,
        "interface": event.interface,
        "at": event.at.isoformat(),
        "notice_version": event.notice_version,
        "jurisdiction": event.jurisdiction,
        "subject": who,
    }


def _post(
    client: httpx.Client,
    settings: Settings,
    destination: ConsentDestination,
    event: ConsentEvent,
    subject: ConsentSubject,
) -> None:
    """POST a signed change; any answer but a 2xx raises."""
    include_email = bool(destination.target.get("include_email", True))
    payload = webhook_payload(settings, event, subject, include_email=include_email)
    body = json.dumps(payload, sort_keys=True).encode()
    stamp = str(int(time.time()))  # wall time: receivers check it against their own clock
    headers = {
        "Content-Type": "application/json",
        "Idempotency-Key": event.uid,
        "X-Rightful-Event": "consent.changed",
        "X-Rightful-Timestamp": stamp,
        "X-Rightful-Signature": signature(
            destination_secret(settings, destination.key), stamp, body
        ),
    }
    client.post(str(destination.url), content=body, headers=headers).raise_for_status()


def _error_label(exc: Exception) -> str:
    # The status or the class only: messages can quote URLs, rows or addresses.
    import httpx  # when first used: the server's start does not wait for it

    if isinstance(exc, httpx.HTTPStatusError):
        return f"HTTP {exc.response.status_code}"
    return type(exc).__name__


def _attempt(
    session: Session, settings: Settings, client: httpx.Client, delivery: ConsentDelivery
) -> str | None:
    """Deliver once; None when acknowledged, otherwise why not."""
    import httpx

    destination = session.get(ConsentDestination, delivery.destination_key)
    event = session.get(ConsentEvent, delivery.event_id)
    subject = session.get(ConsentSubject, event.subject_id) if event else None
    if destination is None or event is None or subject is None:
        return "missing record"
    try:
        if destination.kind == "webhook":
            # Checked again at send time (the address may date from demo mode's plain http).
            if webhook_problem(str(destination.url), allow_http=settings.http_webhooks_allowed):
                return "insecure address"
            _post(client, settings, destination, event, subject)
        else:
            sync_person(session, settings, destination, subject)
    except (httpx.HTTPError, ConnectorError) as exc:
        return _error_label(exc)
    return None


def _claim(session: Session, settings: Settings, limit: int) -> claims.Claim:
    """Claim up to `limit` deliveries due now to active destinations, oldest first (commits)."""
    active = select(ConsentDestination.key).where(ConsentDestination.active.is_(True))
    return claims.claim(
        session,
        ConsentDelivery,
        ConsentDelivery.destination_key.in_(active),
        ConsentDelivery.status.in_(RETRYING),
        ConsentDelivery.next_attempt_at <= utcnow(),
        # Long enough for every send of the batch to time out: a live worker records them all.
        lease=timedelta(seconds=settings.claim_seconds + limit * TIMEOUT_SECONDS),
        grace=timedelta(seconds=settings.worker_silent_seconds),
        limit=limit,
        order_by=ConsentDelivery.next_attempt_at,
    )


def _held(won: claims.Claim, delivery_id: int) -> ColumnElement[bool]:
    return and_(
        ConsentDelivery.id == delivery_id,
        ConsentDelivery.status.in_(RETRYING),
        won.held(ConsentDelivery.claimed_by, ConsentDelivery.claimed_until),
    )


def _record(
    session: Session,
    won: claims.Claim,
    delivery: ConsentDelivery,
    error: str | None,
    retry_at: datetime,
) -> bool:
    """Write the attempt's outcome and let the claim go, only while this worker's claim holds
    (a send taken over by another worker is recorded once); an acknowledgement is audited."""
    now, attempts = utcnow(), delivery.attempts + 1
    values: dict[str, object] = {"attempts": attempts, "claimed_by": None, "claimed_until": None}
    if error is None:
        values.update(status="acknowledged", acknowledged_at=now, last_error=None)
    else:
        values.update(last_error=error[:300], next_attempt_at=retry_at)
        if attempts >= MAX_ATTEMPTS:
            values["status"] = "failed"
    result = session.execute(
        update(ConsentDelivery)
        .where(_held(won, delivery.id))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if not result.rowcount:  # type: ignore[attr-defined]
        return False
    if error is None:
        audit.record(
            session,
            actor="worker",
            action="consent.delivered",
            subject_type="consent_delivery",
            subject_id=str(delivery.id),
            detail={"destination": delivery.destination_key, "attempts": attempts},
        )
    return True


def _put_off(session: Session, won: claims.Claim, delivery_id: int, until: datetime) -> None:
    # A claimed delivery to a destination that just failed goes back untried, due with it.
    session.execute(
        update(ConsentDelivery)
        .where(_held(won, delivery_id))
        .values(next_attempt_at=until, claimed_by=None, claimed_until=None)
        .execution_options(synchronize_session=False)
    )


def _hold_back(session: Session, settings: Settings, destination_key: str, until: datetime) -> None:
    # A destination that just failed is not tried again for its other changes until this one
    # is due again: a partner that is down costs one timeout per backoff, not one per change.
    # Deliveries another worker holds are its own to record.
    grace = timedelta(seconds=settings.worker_silent_seconds)
    session.execute(
        update(ConsentDelivery)
        .where(
            ConsentDelivery.destination_key == destination_key,
            ConsentDelivery.status.in_(RETRYING),
            ConsentDelivery.next_attempt_at <= utcnow(),
            claims.free(ConsentDelivery.claimed_by, ConsentDelivery.claimed_until, grace),
        )
        .values(next_attempt_at=until)
        .execution_options(synchronize_session=False)
    )


def deliver_due(session: Session, settings: Settings, *, limit: int | None = None) -> int:
    """Claim the deliveries that are due and send each, committing each (a worker job);
    returns how many were acknowledged. Stores whose import is due are read first, so what
    changed in them reaches the ledger before the ledger's changes go out (store_import.py)."""
    store_import.import_due(session, settings)
    won = _claim(session, settings, limit or settings.worker_batch_size)
    if not won.ids:
        return 0
    # Only now: an idle pass (each lane's first, while the server starts) does not load httpx.
    import httpx

    acknowledged, failing = 0, dict[str, datetime]()
    with httpx.Client(timeout=TIMEOUT_SECONDS) as client:  # one connection per partner
        for delivery_id in won.ids:
            delivery = session.get(ConsentDelivery, delivery_id, populate_existing=True)
            if delivery is None:
                continue
            key = delivery.destination_key
            if key in failing:
                _put_off(session, won, delivery_id, failing[key])
                session.commit()
                continue
            error = _attempt(session, settings, client, delivery)
            retry_at = utcnow() + backoff(delivery.attempts + 1)
            recorded = _record(session, won, delivery, error, retry_at)
            if recorded and error is not None:
                failing[key] = retry_at
                _hold_back(session, settings, key, retry_at)
            session.commit()
            acknowledged += recorded and error is None
    return acknowledged


def redeliver(session: Session, delivery_id: int, *, actor: str = "staff") -> ConsentDelivery:
    """Staff retry a delivery now, e.g. once its destination is fixed (flushes only)."""
    delivery = session.get(ConsentDelivery, delivery_id)
    if delivery is None:
        raise NotFoundError("There is no such delivery.")
    destination = session.get(ConsentDestination, delivery.destination_key)
    if delivery.status not in OPEN_STATUSES or destination is None or not destination.active:
        raise ConflictError("This delivery is acknowledged, cancelled or its destination is off.")
    now = utcnow()
    delivery.status = "overdue" if delivery.due_at <= now else "pending"
    delivery.next_attempt_at = now
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="consent.delivery_retried",
        subject_type="consent_delivery",
        subject_id=str(delivery.id),
        detail={"destination": delivery.destination_key, "attempts": delivery.attempts},
    )
    return delivery


def _take_alert(session: Session, delivery_id: int, now: datetime) -> bool:
    # One alert per delivery, even with two workers: only one of them sets `alerted_at`.
    result = session.execute(
        update(ConsentDelivery)
        .where(ConsentDelivery.id == delivery_id, ConsentDelivery.alerted_at.is_(None))
        .values(alerted_at=now)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def _alert(session: Session, settings: Settings, late: list[ConsentDelivery]) -> None:
    """One e-mail to staff naming destinations and counts (never a person)."""
    names = {d.key: d.name for d in session.scalars(select(ConsentDestination))}
    rows = []
    for key in sorted({d.destination_key for d in late}):
        mine = [d for d in late if d.destination_key == key]
        rows.append(
            {
                "name": names.get(key, key),
                "key": key,
                "count": len(mine),
                "oldest_due": min(d.due_at for d in mine).date().isoformat(),
                "last_error": next((d.last_error for d in mine if d.last_error), "no answer"),
            }
        )
    queue_email(
        session,
        settings,
        to=settings.consent_alert_email or settings.privacy_email,
        template="consent_overdue",
        context={"rows": rows, "total": len(late), "legal_days": LEGAL_BUSINESS_DAYS},
    )


def mark_overdue(session: Session, settings: Settings) -> int:
    """Deliveries past their legal deadline become overdue and staff get one e-mail about
    them; commits (a worker job). Returns how many were newly reported."""
    now = utcnow()
    session.execute(
        update(ConsentDelivery)
        .where(ConsentDelivery.status == "pending", ConsentDelivery.due_at <= now)
        .values(status="overdue")
        .execution_options(synchronize_session=False)
    )
    unreported = session.scalars(
        select(ConsentDelivery)
        .where(
            ConsentDelivery.status.in_(OPEN_STATUSES),
            ConsentDelivery.due_at <= now,
            ConsentDelivery.alerted_at.is_(None),
        )
        .order_by(ConsentDelivery.id)
    ).all()
    taken = [d for d in unreported if _take_alert(session, d.id, now)]
    if taken:
        _alert(session, settings, taken)
    session.commit()  # the alert and `alerted_at` land together, or neither does
    return len(taken)
