"""The audit log: append-only and hash-chained. Details never hold personal data."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from rightful.core.clock import utcnow
from rightful.security.models import AuditEvent

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
    """Append one event to the chain (flushes; the caller commits)."""
    prev = session.scalar(select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1))
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
