"""The sequencer: gives pending consent events their place in the log and signs each batch.

Writers only insert events (consent/appending.py); the events wait with no position. Whoever
holds the lease on the one `consent_sequencer` row (claimed with core/claims.py, as the other
workers' claims are) takes pending events in arrival order (their ids), a bounded batch at a
time, and in **one transaction per batch**: gives them positions n, n+1, …, stores their leaf
hashes and every perfect subtree they complete, and publishes a signed tree head of the new
size. Killed mid-batch, that transaction is rolled back whole: the next run starts from the last
head, with no gap and nothing twice.

Only the lease holder sequences. Each batch begins by extending the lease with an UPDATE that
holds only if the lease is still the one this process took; that row stays locked until the
batch commits, so a sequencer that lost its lease (it ran out while it was stalled) cannot
commit a batch over another's. The positions' unique index and the heads' and nodes' primary
keys stand behind that: two batches from the same size can never both commit.

Scheduled by the worker (worker/jobs.py, the `sequence` lane): a pass when a writer wakes it
(consent/sequence_wake.py), every `consent_sequencer_poll_seconds` besides, and straight on while
a backlog lasts. A pass that finds nothing pending costs one indexed read and takes no lease, so
the poll can be frequent. `run_once` may be called from anywhere else too.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import bindparam, exists, insert, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from rightful.consent import log_entry, tree
from rightful.consent.models import (
    ConsentEvent,
    ConsentLogNode,
    ConsentSequencer,
    ConsentTreeHead,
)
from rightful.core import claims
from rightful.core.clock import utcnow
from rightful.core.config import Settings
from rightful.core.db import Base
from rightful.security import signing_keys

__all__ = ["BATCH", "LEASE", "pending", "run_once"]

log = logging.getLogger(__name__)

BATCH = 1000  # events in a pass's first batch (one transaction and one signed head)
MOST = 4000  # events per batch at most: a backlog doubles the batch up to this
LEASE = timedelta(seconds=15)  # a stalled or killed sequencer holds the log this long at most
MAX_BATCHES = 50  # per run, so the lease changes hands now and then
ROW = 1

_EVENTS = Base.metadata.tables[ConsentEvent.__tablename__]
_NODES = Base.metadata.tables[ConsentLogNode.__tablename__]
_HEADS = Base.metadata.tables[ConsentTreeHead.__tablename__]
# What an entry reads of each pending event (log_entry.LoggedEvent), as plain rows: no ORM
# objects to build, track and flush.
_PENDING = (
    select(
        *(
            _EVENTS.c[k]
            for k in (
                "id",
                "uid",
                "subject_id",
                "purpose",
                "channel",
                "state",
                "interface",
                "notice_version",
                "jurisdiction",
                "proof",
                "actor",
                "at",
                "hash",
            )
        )
    )
    .where(_EVENTS.c.position.is_(None))
    .order_by(_EVENTS.c.id)
    .limit(bindparam("limit"))
)
# A batch's positions and nodes in one statement each on PostgreSQL, whatever its size: each
# column one array (the text never changes, so it is compiled and planned once).
_PLACE_PG = text(
    "UPDATE consent_events AS e SET position = u.position"
    " FROM unnest(CAST(:ids AS integer[]), CAST(:positions AS integer[])) AS u(id, position)"
    " WHERE e.id = u.id AND e.position IS NULL"
)
_NODES_PG = text(
    "INSERT INTO consent_log_nodes (level, number, hash) SELECT * FROM unnest("
    "CAST(:levels AS integer[]), CAST(:numbers AS integer[]), CAST(:hashes AS varchar[]))"
)
_PLACE = (  # other stores: one executemany
    update(_EVENTS)
    .where(_EVENTS.c.id == bindparam("b_id"), _EVENTS.c.position.is_(None))
    .values(position=bindparam("b_position"))
)


def run_once(
    session_factory: sessionmaker[Session],
    settings: Settings,
    *,
    batch: int | None = None,
    lease: timedelta = LEASE,
    max_batches: int = MAX_BATCHES,
    first: int = BATCH,
    most: int = MOST,
) -> int:
    """Sequence what is pending if this process wins the lease; returns how many events.

    Each batch is one transaction and one signed head. By default the first takes `first`
    events and, while a batch comes back full (a backlog), the next takes twice as many, up to
    `most`: a sequencer behind signs fewer heads and pays each batch's fixed costs (and the
    search for the oldest pending events) less often, while one that keeps up still signs a
    head soon after each write. A given `batch` is every batch's size."""
    with session_factory() as session:
        if not pending(session):
            return 0
        session.rollback()  # the read's snapshot ends here; each batch reads afresh
        won = _claim(session, settings, lease)
        if won is None:
            return 0
        until, done, size = won.until, 0, batch or first
        try:
            for _ in range(max_batches):
                taken, until = _batch(session, settings, won.holder, until, lease, size)
                done += taken
                if taken < size:
                    break
                if batch is None:
                    size = min(size * 2, most)
        finally:
            _release(session, won.holder, until)
    return done


def pending(session: Session) -> bool:
    """Whether any event waits for its position (the positions' index finds the first)."""
    return bool(session.scalar(select(exists().where(ConsentEvent.position.is_(None)))))


def _claim(session: Session, settings: Settings, lease: timedelta) -> claims.Claim | None:
    if session.get(ConsentSequencer, ROW) is None:  # a store made without migrations (tests)
        try:
            with session.begin_nested():
                session.add(ConsentSequencer(id=ROW))
        except IntegrityError:
            pass
        session.commit()
    grace = timedelta(seconds=settings.worker_silent_seconds)
    won = claims.claim(session, ConsentSequencer, lease=lease, grace=grace, limit=1)
    return won if won.ids else None


def _batch(
    session: Session,
    settings: Settings,
    holder: str,
    until: datetime,
    lease: timedelta,
    limit: int,
) -> tuple[int, datetime]:
    """One batch in one transaction; (events sequenced, the lease's new end)."""
    renewed = utcnow() + lease
    kept = session.execute(
        update(ConsentSequencer)
        .where(
            ConsentSequencer.id == ROW,
            ConsentSequencer.claimed_by == holder,
            ConsentSequencer.claimed_until == until,
        )
        .values(claimed_until=renewed)
        .execution_options(synchronize_session=False)
    )
    if not kept.rowcount:  # type: ignore[attr-defined]
        session.rollback()
        log.warning("the consent sequencer lost its lease; another sequencer carries on")
        return 0, until
    conn = session.connection()
    events = conn.execute(_PENDING, {"limit": limit}).all()
    if not events:
        session.commit()
        return 0, renewed
    head = tree.latest_head(session)
    grown = tree.frontier(session, head.tree_size if head else 0)
    first = grown.size
    levels: list[int] = []
    numbers: list[int] = []
    hashes: list[str] = []
    for position, event in enumerate(events, first):
        for (lv, n), h in grown.append(log_entry.leaf(log_entry.entry(event, position))):
            levels.append(lv)
            numbers.append(n)
            hashes.append(h.hex())
    ids = [e.id for e in events]
    positions = list(range(first, grown.size))
    if conn.dialect.name == "postgresql":
        placed = conn.execute(
            _PLACE_PG, {"ids": _literal(ids), "positions": _literal(positions)}
        ).rowcount
        conn.execute(
            _NODES_PG,
            {"levels": _literal(levels), "numbers": _literal(numbers), "hashes": _literal(hashes)},
        )
    else:
        placed = conn.execute(
            _PLACE, [{"b_id": i, "b_position": p} for i, p in zip(ids, positions, strict=True)]
        ).rowcount
        conn.execute(
            insert(_NODES),
            [
                {"level": lv, "number": n, "hash": h}
                for lv, n, h in zip(levels, numbers, hashes, strict=True)
            ],
        )
    if placed != len(events):  # an event placed meanwhile: nothing of this batch may commit
        session.rollback()
        raise RuntimeError("consent events were sequenced by another transaction")
    root, stamp = grown.root().hex(), int(utcnow().timestamp() * 1000)
    signer = signing_keys.signer(session, settings, signing_keys.CONSENT_LOG)
    message = log_entry.head_message(grown.size, root, stamp)
    conn.execute(
        insert(_HEADS).values(
            tree_size=grown.size,
            root_hash=root,
            timestamp=stamp,
            key_id=signer.key_id,
            signature=signer.sign(message),
        )
    )
    session.commit()
    return len(events), renewed


def _literal(values: list[int] | list[str]) -> str:
    """A PostgreSQL array literal of integers or hex strings (nothing to quote): joined in C,
    where psycopg's list adapter costs a few microseconds an element in Python."""
    return "{" + ",".join(map(str, values)) + "}"


def _release(session: Session, holder: str, until: datetime) -> None:
    session.rollback()  # whatever a failed batch left open
    session.execute(
        update(ConsentSequencer)
        .where(ConsentSequencer.claimed_by == holder, ConsentSequencer.claimed_until == until)
        .values(claimed_by=None, claimed_until=None)
        .execution_options(synchronize_session=False)
    )
    session.commit()
