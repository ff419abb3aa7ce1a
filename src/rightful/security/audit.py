"""The audit log: append-only and hash-chained. Details never hold personal data."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from rightful.core.clock import utcnow
from rightful.security.models import AuditChainHead, AuditEvent

GENESIS = "0" * 64


def _digest(prev_hash: str, event: AuditEvent) -> str:
    body = json.dumps(
        [
            prev_hash,
            event.at.isoformat(),
            event.actor,
            event.action,
            event.subject_type,
            event.subject_id,
            event.detail,
        ],
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(body.encode()).hexdigest()


def record(
    session: Session,
    *,
    actor: str,
    action: str,
    subject_type: str,
    subject_id: str,
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event to the chain (flushes; the caller commits).

    Updating the head row first takes its lock (a row lock on PostgreSQL, the write lock on
    SQLite) until the caller commits, so two workers never chain onto the same hash.
    """
    prev = session.scalar(
        update(AuditChainHead)
        .where(AuditChainHead.id == 1)
        .values(events=AuditChainHead.events + 1)
        .returning(AuditChainHead.last_hash)
    )
    if prev is None:  # a store created without migrations (tests): start the chain
        session.add(AuditChainHead(id=1, events=1, last_hash=GENESIS))
        session.flush()
    event = AuditEvent(
        at=utcnow(),
        actor=actor,
        action=action,
        subject_type=subject_type,
        subject_id=subject_id,
        detail=detail or {},
        prev_hash=prev or GENESIS,
    )
    event.hash = _digest(event.prev_hash, event)
    session.add(event)
    session.execute(
        update(AuditChainHead).where(AuditChainHead.id == 1).values(last_hash=event.hash)
    )
    session.flush()
    return event


def events_for(session: Session, *, subject_type: str, subject_id: str) -> list[AuditEvent]:
    """The timeline of one thing, oldest first."""
    stmt = (
        select(AuditEvent)
        .where(AuditEvent.subject_type == subject_type, AuditEvent.subject_id == subject_id)
        .order_by(AuditEvent.id)
    )
    return list(session.scalars(stmt))


def verify_chain(session: Session) -> int | None:
    """The id of the first event whose hash does not hold, or None when the chain is intact."""
    prev = GENESIS
    for event in session.scalars(select(AuditEvent).order_by(AuditEvent.id)):
        if event.prev_hash != prev or _digest(prev, event) != event.hash:
            return event.id
        prev = event.hash
    return None
