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

from sqlalchemy import exists, insert, select, update
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
from rightful.security import signing_keys

__all__ = ["BATCH", "LEASE", "pending", "run_once"]

log = logging.getLogger(__name__)

BATCH = 1000  # events per batch and signed head
LEASE = timedelta(seconds=15)  # a stalled or killed sequencer holds the log this long at most
MAX_BATCHES = 50  # per run, so the lease changes hands now and then
ROW = 1


def run_once(
    session_factory: sessionmaker[Session],
    settings: Settings,
    *,
    batch: int = BATCH,
    lease: timedelta = LEASE,
    max_batches: int = MAX_BATCHES,
) -> int:
    """Sequence what is pending if this process wins the lease; returns how many events."""
    with session_factory() as session:
        if not pending(session):
            return 0
        session.rollback()  # the read's snapshot ends here; each batch reads afresh
        won = _claim(session, settings, lease)
        if won is None:
            return 0
        until, done = won.until, 0
        try:
            for _ in range(max_batches):
                taken, until = _batch(session, settings, won.holder, until, lease, batch)
                done += taken
                if taken < batch:
                    break
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
    events = list(
        session.scalars(
            select(ConsentEvent)
            .where(ConsentEvent.position.is_(None))
            .order_by(ConsentEvent.id)
            .limit(limit)
        )
    )
    if not events:
        session.commit()
        return 0, renewed
    head = tree.latest_head(session)
    grown = tree.frontier(session, head.tree_size if head else 0)
    made: list[dict[str, object]] = []
    for event in events:
        position = grown.size
        event.position = position
        made += [
            {"level": lv, "number": n, "hash": h.hex()}
            for (lv, n), h in grown.append(log_entry.leaf(log_entry.entry(event, position)))
        ]
    session.flush()
    session.execute(insert(ConsentLogNode), made)
    root, stamp = grown.root().hex(), int(utcnow().timestamp() * 1000)
    signer = signing_keys.signer(session, settings, signing_keys.CONSENT_LOG)
    message = log_entry.head_message(grown.size, root, stamp)
    session.add(
        ConsentTreeHead(
            tree_size=grown.size,
            root_hash=root,
            timestamp=stamp,
            key_id=signer.key_id,
            signature=signer.sign(message),
        )
    )
    session.commit()
    return len(events), renewed


def _release(session: Session, holder: str, until: datetime) -> None:
    session.rollback()  # whatever a failed batch left open
    session.execute(
        update(ConsentSequencer)
        .where(ConsentSequencer.claimed_by == holder, ConsentSequencer.claimed_until == until)
        .values(claimed_by=None, claimed_until=None)
        .execution_options(synchronize_session=False)
    )
    session.commit()
