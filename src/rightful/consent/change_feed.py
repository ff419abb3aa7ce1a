"""The writers' half of the consent change feed: who changed, announced with the change.

A check cache (consent/check_cache.py) keeps answers per process; every change that can alter an
answer names the subjects it touched on PostgreSQL's `NOTIFY` channel `rightful_consent`, in the
transaction that makes the change, so listeners hear of it exactly when it commits, and never of
one rolled back. A payload is space-separated tokens: subject ids and lookup hashes, or `*` for
"anything may have changed" (a catalogue change, a rebuild, an erasure).

Choices recorded (the hot path) announce only when the cache is on (`consent_cache_seconds`):
each NOTIFY makes commits take PostgreSQL's notify-queue lock, which costs writers
(docs/benchmarks.md). A process that does not announce cannot make another serve an answer
older than the bound: the bound holds without the feed; the feed only makes answers fresher.
Rare changes always announce. SQLite has no cache, so nothing is sent there.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, event, func, select, text
from sqlalchemy.orm import Session

from rightful.core.config import Settings

CHANNEL = "rightful_consent"
EVERYTHING = "*"
_MAX_PAYLOAD = 7900  # PostgreSQL refuses payloads of 8,000 bytes or more
_CHANGED = "consent_states_changed"  # session.info: this transaction changed answers


def wanted(session: Session, settings: Settings) -> bool:
    """Whether choices recorded in this session are announced."""
    return settings.consent_cache_seconds > 0 and _postgres(session)


def _postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def notify_column(payload: ColumnElement[str]) -> ColumnElement[str]:
    """`pg_notify` as a column, for a statement sent anyway (the ledger's append): evaluated
    once however many rows the statement returns."""
    return select(func.pg_notify(CHANNEL, payload)).scalar_subquery()


def payload(*tokens: str) -> str:
    """Tokens as one notification's payload."""
    return " ".join(tokens)


def mark_changed(session: Session) -> None:
    """This transaction changed answers: its checks read the store, and cache nothing."""
    session.info[_CHANGED] = True


def changed_here(session: Session) -> bool:
    """Whether this transaction has changed answers it has not committed yet."""
    return bool(session.info.get(_CHANGED, False))


def announce(session: Session, *tokens: str) -> None:
    """Tell every process's cache that these subjects (or, with `*`, anything) changed, in
    the caller's transaction. One statement on PostgreSQL; nothing elsewhere."""
    mark_changed(session)
    if not tokens or not _postgres(session):
        return
    batch: list[str] = []
    for token in tokens:  # several notifications when the tokens do not fit one payload
        if batch and len(payload(*batch, token)) > _MAX_PAYLOAD:
            _send(session, payload(*batch))
            batch = []
        batch.append(token)
    _send(session, payload(*batch))


def _send(session: Session, message: str) -> None:
    notify = text("SELECT pg_notify(:channel, :payload)")
    session.connection().execute(notify, {"channel": CHANNEL, "payload": message})


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
def _forget_change(session: Session) -> None:
    session.info.pop(_CHANGED, None)
