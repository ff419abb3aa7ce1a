"""Claims in the database: a side effect is won by one worker before it is done.

A row that carries `claimed_by` (the worker's id and a token for this one claim) and
`claimed_until` (the lease's end) is claimed with one conditional UPDATE: only rows nobody
holds, whose lease ran out, or whose holder stopped beating its heart. The winner reads back
what it won by its token, does the work, and writes the result on the condition that it still
holds the claim. A dead worker's claims are free again once its heartbeat is older than the
grace period, long before its lease would end.
"""

from __future__ import annotations

import os
import secrets
import socket
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, String, and_, func, or_, select, update
from sqlalchemy.orm import InstrumentedAttribute, Mapped, Session, mapped_column

from rightful.core.clock import utcnow
from rightful.core.db import Base, UTCDateTime

ID_LENGTH = 24  # a worker's id; a claim's holder is the id and 8 more characters
HOLDER_LENGTH = ID_LENGTH + 8
_identity: tuple[int, str] | None = None
_identity_lock = threading.Lock()


def _new_lock_in_child() -> None:  # a fork while another thread held it must not deadlock
    global _identity_lock
    _identity_lock = threading.Lock()


os.register_at_fork(after_in_child=_new_lock_in_child)


class WorkerBeat(Base):
    """A worker process's last sign of life; its claims outlive it by the grace period only."""

    __tablename__ = "worker_heartbeats"

    worker_id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    host: Mapped[str] = mapped_column(String(100), default="")  # host:pid, for operators
    lanes: Mapped[str] = mapped_column(String(100), default="")
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    beat_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


def worker_id() -> str:
    """This process's id as a claim holder, random (pids are reused across machines)."""
    global _identity
    pid = os.getpid()
    # Locked: a task's first claim and the heartbeat thread's first beat come together, and
    # two ids would leave the claim under one nobody beats for (taken over while alive).
    with _identity_lock:
        if _identity is None or _identity[0] != pid:  # a forked child is a new worker
            _identity = (pid, secrets.token_hex(ID_LENGTH // 2))
        return _identity[1]


def beat(session: Session, *, lanes: str = "") -> None:
    """Record that this worker is alive (committed by the caller)."""
    me, now = worker_id(), utcnow()
    row = session.get(WorkerBeat, me)
    if row is None:
        host = f"{socket.gethostname()}:{os.getpid()}"[:100]
        session.add(
            WorkerBeat(worker_id=me, host=host, lanes=lanes[:100], started_at=now, beat_at=now)
        )
    else:
        row.beat_at = now
    session.flush()


def forget_dead(session: Session, *, older_than: timedelta) -> int:
    """Drop heartbeats of workers long gone (their claims were freed long before)."""
    rows = session.scalars(select(WorkerBeat).where(WorkerBeat.beat_at < utcnow() - older_than))
    found = list(rows)
    for row in found:
        session.delete(row)
    session.flush()
    return len(found)


def free(
    holder: InstrumentedAttribute[Any], until: InstrumentedAttribute[Any], grace: timedelta
) -> ColumnElement[bool]:
    """The condition for a claim that may be taken: none, run out, or its holder is silent."""
    now = utcnow()
    silent = select(WorkerBeat.worker_id).where(WorkerBeat.beat_at < now - grace)
    return or_(until.is_(None), until < now, func.substr(holder, 1, ID_LENGTH).in_(silent))


@dataclass(frozen=True)
class Claim:
    """What one worker won: the row ids, and the holder and lease end that identify the claim."""

    holder: str
    until: datetime
    ids: list[Any]
    # The rows themselves, as claimed, when the claim read them back whole (PostgreSQL).
    rows: list[Any] = field(default_factory=list)

    def held(
        self, holder: InstrumentedAttribute[Any], until: InstrumentedAttribute[Any]
    ) -> ColumnElement[bool]:
        """The condition a result write carries: this claim still holds the row."""
        return and_(holder == self.holder, until == self.until)


def claim(
    session: Session,
    model: Any,
    *where: ColumnElement[bool],
    lease: timedelta,
    grace: timedelta,
    limit: int,
    order_by: Any = None,
) -> Claim:
    """Claim up to `limit` rows of `model` matching `where`; commits. Returns what was won.

    The candidates are read first and claimed by one UPDATE that repeats every condition, so
    two workers reading the same candidates split them: PostgreSQL re-checks the conditions
    on a row another transaction changed, SQLite serialises the writers. On PostgreSQL the
    read, the claim and the read back are one statement (`_claim_returning`).
    """
    holder, until = worker_id() + secrets.token_hex(4), utcnow() + lease
    condition = and_(*where, free(model.claimed_by, model.claimed_until, grace))
    candidates_query = (
        select(model.id)
        .where(condition)
        .order_by(model.id if order_by is None else order_by)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        return _claim_returning(session, model, condition, candidates_query, holder, until)
    candidates = list(session.scalars(candidates_query))
    if not candidates:
        session.commit()
        return Claim(holder, until, [])
    session.execute(
        update(model)
        .where(model.id.in_(candidates), condition)
        .values(claimed_by=holder, claimed_until=until)
        .execution_options(synchronize_session=False)
    )
    session.commit()
    won = Claim(holder, until, [])
    ids = session.scalars(
        select(model.id).where(won.held(model.claimed_by, model.claimed_until)).order_by(model.id)
    )
    return Claim(holder, until, list(ids))


def _claim_returning(
    session: Session,
    model: Any,
    condition: ColumnElement[bool],
    candidates: Select[Any],
    holder: str,
    until: datetime,
) -> Claim:
    # Candidates another worker is claiming right now are skipped, not waited for; the UPDATE
    # repeats the conditions all the same. The rows come back whole, so the caller need not
    # read them again (`Claim.rows`). The locked pick is a MATERIALIZED CTE, run once: as an
    # IN subquery the planner may rescan it once per row (nested-loop semi join), each scan
    # locking further rows, and the claim took far more than `limit`.
    locked = (
        candidates.with_for_update(of=model, skip_locked=True)
        .cte("picked")
        .prefix_with("MATERIALIZED")
    )
    rows = list(
        session.scalars(
            update(model)
            .where(model.id.in_(select(locked.c.id)), condition)
            .values(claimed_by=holder, claimed_until=until)
            .returning(model)
            .execution_options(synchronize_session=False, populate_existing=True)
        )
    )
    session.commit()
    rows.sort(key=lambda row: row.id)
    return Claim(holder, until, [row.id for row in rows], rows)


def release(session: Session, model: Any, won: Claim, row_id: Any) -> bool:
    """Give one row back unchanged (e.g. nothing to do after all); True if it was still held."""
    result = session.execute(
        update(model)
        .where(model.id == row_id, won.held(model.claimed_by, model.claimed_until))
        .values(claimed_by=None, claimed_until=None)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]
