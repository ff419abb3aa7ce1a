"""Tables a session wrote in statements the ORM's events do not see (plain SQL, such as the
writes riding the audit append: security/audit_append.ride), so that whatever watches a
session's writes (worker/pending.py, which asks a lane for a pass) sees them too."""

from __future__ import annotations

from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

_KEY = "rightful.written"


def note(session: Session, table: str) -> None:
    """Say that this transaction writes rows of `table`."""
    session.info.setdefault(_KEY, set()).add(table)


def take(session: Session) -> set[str]:
    """The tables noted since the last take (and forget them)."""
    tables: set[str] = session.info.pop(_KEY, set())
    return tables


@event.listens_for(Session, "after_transaction_end")
def _forget(session: Session, transaction: SessionTransaction) -> None:
    # A commit's watchers took theirs in after_commit, which comes first; a rollback's are void.
    if transaction.parent is None:
        session.info.pop(_KEY, None)
