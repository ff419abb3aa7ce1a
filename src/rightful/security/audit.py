"""The audit log: append-only and hash-chained. Details never hold personal data."""

from __future__ import annotations

from collections.abc import Iterable
from types import SimpleNamespace
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from rightful.core.clock import utcnow
from rightful.security import chain, chain_check
from rightful.security.chain_check import Verdict
from rightful.security.models import AuditEvent
from rightful.security.permissions import Actor, Permission, require

GENESIS = chain.GENESIS


def _digest(prev_hash: str, event: AuditEvent) -> str:
    return chain.digest(
        prev_hash,
        [
            event.at.isoformat(),
            event.actor,
            event.action,
            event.subject_type,
            event.subject_id,
            event.detail,
        ],
    )


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
    prev_hash = chain.tip(session, chain.AUDIT_CHAIN)
    event_row = AuditEvent(
        at=utcnow(),
        actor=actor,
        action=action,
        subject_type=subject_type,
        subject_id=subject_id,
        detail=detail or {},
        prev_hash=prev_hash,
    )
    event_row.hash = _digest(event_row.prev_hash, event_row)
    session.add(event_row)
    session.flush()
    chain.advance(session, chain.AUDIT_CHAIN, event_row.hash)
    return event_row


def record_many(session: Session, events: Iterable[dict[str, Any]]) -> int:
    """Append many events (each: actor, action, subject_type, subject_id, detail) in one
    statement, in order, each hashed onto the one before exactly as `record` hashes it
    (flushes; the caller commits). Returns how many were appended."""
    prev_hash = chain.tip(session, chain.AUDIT_CHAIN)
    rows = []
    for event in events:
        row = SimpleNamespace(at=utcnow(), **{**event, "detail": event.get("detail") or {}})
        row.prev_hash, row.hash = prev_hash, _digest(prev_hash, row)  # type: ignore[arg-type]
        rows.append(vars(row))
        chain.advance(session, chain.AUDIT_CHAIN, row.hash)
        prev_hash = row.hash
    if rows:
        session.execute(insert(AuditEvent), rows)
    return len(rows)


def events_for(session: Session, *, subject_type: str, subject_id: str) -> list[AuditEvent]:
    """The timeline of one thing, oldest first."""
    stmt = (
        select(AuditEvent)
        .where(AuditEvent.subject_type == subject_type, AuditEvent.subject_id == subject_id)
        .order_by(AuditEvent.id)
    )
    return list(session.scalars(stmt))


def verify_as(session: Session, *, actor: Actor) -> Verdict:
    """`verify_chain` for a caller, who must hold audit.verify."""
    require(actor, Permission.AUDIT_VERIFY)
    return verify_chain(session)


def verify_chain(session: Session) -> Verdict:
    """Walk the audit log and hold it to its head: intact, or the first problem and where."""
    stmt = select(AuditEvent).order_by(AuditEvent.id).execution_options(yield_per=2000)
    return chain_check.verify(session, chain.AUDIT_CHAIN, lambda: session.scalars(stmt), _digest)
