"""Which lanes got new work from this process: so a lane pass is asked for only when something
was put in (or put back into) its tables, never after every call.

Each session notes the lane tables it wrote (rows added or changed in a flush, ORM INSERT and
UPDATE statements, and plain SQL a module says it wrote through core/written.py); a commit hands
them to the process-wide set that `take` empties. Noting on commit, not on flush, means whoever
takes a lane asks for its pass after the rows are visible. A lane's pass notes nothing in its own
tables (`quiet`): sending a message is not new mail, but a partner notice sent by e-mail is.
Anything missed here waits for the sweep, which asks every lane regardless.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction

from rightful.core import written

__all__ = ["quiet", "take"]

MAIL, PROPAGATION = "mail", "propagation"
LANE_OF_TABLE = {
    "outbox_messages": MAIL,
    "partner_notices": PROPAGATION,
    "consent_deliveries": PROPAGATION,
    "portability_transfers": PROPAGATION,
}
_KEY = "rightful.lanes"
_lock = threading.Lock()
_committed: set[str] = set()
_local = threading.local()


def take(lane: str) -> bool:
    """Whether work for `lane` was committed here since the last take (and forget it)."""
    with _lock:
        if lane in _committed:
            _committed.discard(lane)
            return True
    return False


@contextmanager
def quiet(lane: str) -> Iterator[None]:
    """A lane's own pass on this thread: what it writes in its tables (sent, failed, retried)
    is not new work for it."""
    _local.quiet = lane
    try:
        yield
    finally:
        _local.quiet = None


def _note(session: Session, table: Any) -> None:
    lane = LANE_OF_TABLE.get(table if isinstance(table, str) else getattr(table, "name", ""))
    if lane is not None and lane != getattr(_local, "quiet", None):
        session.info.setdefault(_KEY, set()).add(lane)


@event.listens_for(Session, "after_flush")
def _flushed(session: Session, _flush: UOWTransaction) -> None:
    for obj in (*session.new, *session.dirty):
        _note(session, getattr(obj, "__table__", None))


@event.listens_for(Session, "do_orm_execute")
def _executed(state: ORMExecuteState) -> None:
    if (state.is_insert or state.is_update) and state.bind_mapper is not None:
        _note(state.session, state.bind_mapper.local_table)


@event.listens_for(Session, "after_commit")
def _committed_lanes(session: Session) -> None:
    for table in written.take(session):  # written in plain SQL (core/written.py)
        _note(session, table)
    lanes = session.info.pop(_KEY, None)
    if lanes:
        with _lock:
            _committed.update(lanes)


@event.listens_for(Session, "after_rollback")
def _rolled_back(session: Session) -> None:
    session.info.pop(_KEY, None)
