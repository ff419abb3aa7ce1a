"""The audit log: append-only and hash-chained. Details never hold personal data."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from types import SimpleNamespace
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from rightful.core.clock import utcnow
from rightful.core.config import Settings
from rightful.security import anchors, audit_append, chain, chain_check, signing_keys
from rightful.security.chain_check import Verdict
from rightful.security.models import AuditEvent
from rightful.security.permissions import Actor, Permission, require

GENESIS = chain.GENESIS
# Eight values a row: well within PostgreSQL's 65,535 and SQLite's 32,766 parameters.
_ROWS_A_STATEMENT = 1000
_EVENTS = AuditEvent.metadata.tables[AuditEvent.__tablename__]


def _fields(event: AuditEvent) -> list[Any]:
    """What an event's hash covers, after the previous hash."""
    return [
        event.at.isoformat(),
        event.actor,
        event.action,
        event.subject_type,
        event.subject_id,
        event.detail,
    ]


def _row_fields(row: dict[str, Any]) -> list[Any]:
    return _fields(SimpleNamespace(**row))  # type: ignore[arg-type]


def _digest(prev_hash: str, event: AuditEvent) -> str:
    return chain.digest(prev_hash, _fields(event))


def record(
    session: Session,
    *,
    actor: str,
    action: str,
    subject_type: str,
    subject_id: str,
    detail: dict[str, Any] | None = None,
) -> None:
    """Add one event to the transaction's; they join the chain together at commit."""
    chain.queue(
        session,
        chain.AUDIT_CHAIN,
        {
            "at": utcnow(),
            "actor": actor,
            "action": action,
            "subject_type": subject_type,
            "subject_id": subject_id,
            "detail": detail or {},
        },
    )


def record_many(session: Session, events: Iterable[dict[str, Any]]) -> int:
    """`record` for many events (each: actor, action, subject_type, subject_id, detail), in
    order. Returns how many were added."""
    added = 0
    for event in events:
        record(session, **event)
        added += 1
    return added


def _append(session: Session, rows: list[dict[str, Any]]) -> None:
    """Chain a transaction's events onto the head, in the order recorded, and insert them in
    one statement (the head's lock is taken here, just before commit). On PostgreSQL a few
    events take the lock, are hashed and inserted and write the head in that one statement."""
    if (
        len(rows) <= audit_append.MOST_EVENTS
        and _writes_head_alongside(session)
        and not chain.holds(session, chain.AUDIT_CHAIN)
        and audit_append.append(session, _EVENTS, rows, _row_fields)
    ):
        return
    prev_hash = chain.tip(session, chain.AUDIT_CHAIN)
    for row in rows:
        row["prev_hash"] = prev_hash
        row["hash"] = prev_hash = _digest(prev_hash, SimpleNamespace(**row))  # type: ignore[arg-type]
        chain.advance(session, chain.AUDIT_CHAIN, prev_hash)
    last = len(rows) - 1 - (len(rows) - 1) % _ROWS_A_STATEMENT
    for start in range(0, len(rows), _ROWS_A_STATEMENT):  # one INSERT ... VALUES (...), (...)
        statement = insert(_EVENTS).values(rows[start : start + _ROWS_A_STATEMENT])
        if start == last and _writes_head_alongside(session):
            # The head goes back in the last insert's statement (a data-modifying WITH), one
            # statement fewer a transaction; its row lock is held from `tip` to commit as before.
            last_hash, count = chain.unwritten(session, chain.AUDIT_CHAIN)
            head = chain.head_write().cte("head_written")
            session.execute(
                statement.add_cte(head),
                {"chain": chain.AUDIT_CHAIN, "last": last_hash, "count": count},
            )
            chain.head_written(session, chain.AUDIT_CHAIN)
        else:
            session.execute(statement)


def _writes_head_alongside(session: Session) -> bool:
    # PostgreSQL runs an UPDATE inside WITH; SQLite and MariaDB have no data-modifying WITH.
    return session.get_bind().dialect.name == "postgresql"


chain.written_late(chain.AUDIT_CHAIN, _EVENTS, _append)


def events_for(session: Session, *, subject_type: str, subject_id: str) -> list[AuditEvent]:
    """The timeline of one thing, oldest first."""
    stmt = (
        select(AuditEvent)
        .where(AuditEvent.subject_type == subject_type, AuditEvent.subject_id == subject_id)
        .order_by(AuditEvent.id)
    )
    return list(session.scalars(stmt))


def verify_as(
    session: Session, settings: Settings | None = None, *, actor: Actor, anchor: bool = False
) -> Verdict:
    """`verify_chain` for a caller, who must hold audit.verify."""
    require(actor, Permission.AUDIT_VERIFY)
    return verify_chain(session, settings, anchor=anchor)


def verify_chain(
    session: Session, settings: Settings | None = None, *, anchor: bool = False
) -> Verdict:
    """Walk the audit log and hold it to its head and, given the settings, to its anchors
    outside the store: intact, or the first problem and where. With `anchor`, an intact log's
    head is anchored too."""
    stmt = select(AuditEvent).order_by(AuditEvent.id).execution_options(yield_per=2000)
    if settings is None:
        return chain_check.verify(
            session, chain.AUDIT_CHAIN, lambda: session.scalars(stmt), _digest
        )
    found = anchors.read(session, settings, anchors.AUDIT, anchors.AUDIT_KEYS, _signed)
    marks = anchors.Marks({a.events for a in found.genuine})
    walked = chain_check.verify(
        session, chain.AUDIT_CHAIN, lambda: marks.watch(session.scalars(stmt)), _digest
    )
    verdict = anchors.hold(walked, found, marks, "The audit log")
    head = (marks.count, marks.last[1]) if marks.last is not None else None
    newest = (found.genuine[-1].events, found.genuine[-1].hash) if found.genuine else None
    if anchor and verdict.intact and head is not None and head != newest:
        anchor_head(session, settings, *head)
    return verdict


def anchor_head(session: Session, settings: Settings, events: int, last_hash: str) -> str:
    """Append a verified head (its count and last hash, now) to the audit log's anchors, signed
    with the current data key's anchor key; returns the line."""
    signer = signing_keys.signer(session, settings, anchors.AUDIT_KEYS)
    at = utcnow()
    signature = signer.sign(_message(events, last_hash, at))
    record = {"events": events, "hash": last_hash, "at": at.isoformat()}
    return anchors.append(
        settings, anchors.AUDIT, {**record, "key_id": signer.key_id, "signature": signature}
    )


def _message(events: int, last_hash: str, at: datetime) -> bytes:
    body = {"anchor": "rightful-audit-log", "v": 1, "events": events, "hash": last_hash}
    return anchors.canonical({**body, "at": at.isoformat()})


def _signed(anchor: anchors.Anchor) -> bytes:
    return _message(anchor.events, anchor.hash, anchor.at)
