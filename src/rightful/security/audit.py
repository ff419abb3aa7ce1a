"""The audit log: append-only and hash-chained. Details never hold personal data."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlalchemy import event, select, update
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


_PENDING = "audit_chain"


def _chain_tip(session: Session) -> dict[str, Any]:
    """This transaction's place in the chain, taking the head row's lock on first use.

    Updating the head row takes its lock (a row lock on PostgreSQL, the write lock on SQLite)
    until commit, so concurrent workers never chain onto the same hash. Later events of the
    same transaction reuse the tip; the head is written back once, just before commit.
    """
    tip: dict[str, Any] | None = session.info.get(_PENDING)
    if tip is None:
        prev = session.scalar(
            update(AuditChainHead)
            .where(AuditChainHead.id == 1)
            .values(events=AuditChainHead.events)
            .returning(AuditChainHead.last_hash)
        )
        if prev is None:  # a store created without migrations (tests): start the chain
            session.add(AuditChainHead(id=1, events=0, last_hash=GENESIS))
            session.flush()
        tip = session.info[_PENDING] = {"last": prev or GENESIS, "count": 0}
    return tip


@event.listens_for(Session, "before_commit")
def _write_head(session: Session) -> None:
    tip = session.info.pop(_PENDING, None)
    if tip:
        session.execute(
            update(AuditChainHead)
            .where(AuditChainHead.id == 1)
            .values(last_hash=tip["last"], events=AuditChainHead.events + tip["count"])
        )


@event.listens_for(Session, "after_rollback")
def _forget_head(session: Session) -> None:
    session.info.pop(_PENDING, None)


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
    tip = _chain_tip(session)
    event_row = AuditEvent(
        at=utcnow(),
        actor=actor,
        action=action,
        subject_type=subject_type,
        subject_id=subject_id,
        detail=detail or {},
        prev_hash=tip["last"],
    )
    event_row.hash = _digest(event_row.prev_hash, event_row)
    session.add(event_row)
    session.flush()
    tip["last"], tip["count"] = event_row.hash, tip["count"] + 1
    return event_row


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
    for row in session.scalars(select(AuditEvent).order_by(AuditEvent.id)):
        if row.prev_hash != prev or _digest(prev, row) != row.hash:
            return row.id
        prev = row.hash
    return None
