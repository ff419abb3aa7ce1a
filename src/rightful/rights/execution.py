"""Run approved requests off the web request; every step is recorded so a crash resumes."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Select, Update, select, update
from sqlalchemy.orm import Session, sessionmaker

from rightful.core import claims
from rightful.core.clock import utcnow
from rightful.core.config import Settings
from rightful.core.errors import ConnectorError, NotFoundError
from rightful.rights import access_batch, claimed, correction_run, service
from rightful.rights.access_finish import finish_accesses
from rightful.rights.erasure_batch import finish_erasures
from rightful.rights.erasure_run import apply_erasures, plan_erasures
from rightful.rights.kinds import automated_types, kind_of
from rightful.rights.models import RightsRequest
from rightful.rights.types import Status

log = logging.getLogger(__name__)
# Steps are committed in batches: small requests cost one commit, long ones lose little work.
CHECKPOINT_SECONDS = 2.0
PARTNER_RECHECK = timedelta(minutes=10)


def _free(settings: Settings | None) -> ColumnElement[bool]:
    grace = timedelta(seconds=settings.worker_silent_seconds if settings else 60)
    return claims.free(RightsRequest.lease_holder, RightsRequest.lease_until, grace)


@dataclass
class Taken:
    """What a claim won: each request's lease end, which identifies the claim. On PostgreSQL
    also what the claim's own statement read back (`claimed`): the rows as claimed, the data
    map's revision and the requests with neither steps nor tasks yet, so the run that follows
    need not read them again."""

    leases: dict[str, datetime]
    rows: dict[str, RightsRequest] = field(default_factory=dict)
    revision: int | None = None
    untouched: set[str] = field(default_factory=set)


def claim(
    session: Session, request_id: str, lease: timedelta, settings: Settings | None = None
) -> datetime | None:
    """Take a lease on an executing request so one worker runs it at a time; returns the lease's
    end, which identifies this claim, or None when another worker holds it.

    A worker that dies keeps its lease until it runs out or its heartbeat falls silent for
    `worker_silent_seconds`; then another takes the work over.
    """
    return _take(session, request_id, lease, settings).leases.get(request_id)


def _take(session: Session, request_id: str, lease: timedelta, settings: Settings | None) -> Taken:
    """`claim`, and what the claim read back where the store can (`Taken`)."""
    until = utcnow() + lease
    taking = (
        update(RightsRequest)
        .where(
            RightsRequest.id == request_id,
            RightsRequest.status == Status.EXECUTING.value,
            _free(settings),
        )
        .values(lease_until=until, lease_holder=claims.worker_id())
        .execution_options(synchronize_session=False)
    )
    if _reads_back(session):
        return _won(session, taking, until)
    result = session.execute(taking)
    session.commit()
    return Taken({request_id: until} if result.rowcount else {})  # type: ignore[attr-defined]


def _reads_back(session: Session) -> bool:
    """Whether the claim reads back what the run needs (`_won`): on PostgreSQL. MariaDB has no
    UPDATE ... RETURNING; SQLite has, but SQLAlchemy writes its RETURNING columns without their
    table, so "has it begun" would compare a step's `request_id` with the step's own `id`."""
    return session.get_bind().dialect.name == "postgresql"


def _won(session: Session, taking: Update, until: datetime) -> Taken:
    """Run a claim's UPDATE with RETURNING the rows it won and what the run needs besides
    (`claimed`), and commit: one statement for the claim and the reads after it."""
    won = session.execute(
        taking.returning(RightsRequest, claimed.revision_column(), claimed.untouched_column()),
        execution_options={"populate_existing": True},
    ).all()
    session.commit()
    return Taken(
        leases={req.id: until for req, _, _ in won},
        rows={req.id: req for req, _, _ in won},
        revision=won[0][1] if won else None,
        untouched={req.id for req, _, fresh in won if fresh},
    )


def runnable_ids(
    session: Session, limit: int | None = 20, settings: Settings | None = None
) -> list[str]:
    """Executing, automated requests whose lease is free (all of them with `limit=None`)."""
    return list(session.scalars(_runnable(settings).limit(limit)))


def _runnable(settings: Settings | None) -> Select[str]:
    """The ids of executing, automated requests whose lease is free, oldest change first."""
    return (
        select(RightsRequest.id)
        .where(
            RightsRequest.status == Status.EXECUTING.value,
            RightsRequest.request_type.in_(automated_types()),
            _free(settings),
        )
        .order_by(RightsRequest.updated_at)
    )


def take_runnable(
    session: Session, settings: Settings, *, limit: int, ids: list[str] | None = None
) -> dict[str, datetime]:
    """Claim up to `limit` runnable requests (of `ids`, when given) for this worker in one
    UPDATE, so workers polling together take different ones; returns each one's lease end."""
    return take(session, settings, limit=limit, ids=ids).leases


def take(
    session: Session, settings: Settings, *, limit: int, ids: list[str] | None = None
) -> Taken:
    """`take_runnable`, with what the claim read back where the store can (`Taken`)."""
    until = utcnow() + timedelta(seconds=settings.lease_seconds)
    holder = claims.worker_id() + secrets.token_hex(4)
    if _reads_back(session):
        return _take_returning(session, settings, limit, ids, holder, until)
    candidates = runnable_ids(session, limit, settings) if ids is None else ids[:limit]
    if candidates:
        session.execute(
            update(RightsRequest)
            .where(
                RightsRequest.id.in_(candidates),
                RightsRequest.status == Status.EXECUTING.value,
                _free(settings),
            )
            .values(lease_until=until, lease_holder=holder)
            .execution_options(synchronize_session=False)
        )
    session.commit()
    if not candidates:
        return Taken({})
    won = session.scalars(
        select(RightsRequest.id)
        .where(RightsRequest.lease_holder == holder, RightsRequest.lease_until == until)
        .order_by(RightsRequest.updated_at)
    )
    return Taken({rid: until for rid in won})


def _take_returning(
    session: Session,
    settings: Settings,
    limit: int,
    ids: list[str] | None,
    holder: str,
    until: datetime,
) -> Taken:
    # One statement instead of five: the candidates, the claim, what it won, the data map's
    # revision and whether each has begun. Candidates another worker is taking right now are
    # skipped rather than waited for. The locked pick is a MATERIALIZED CTE, run once: as an
    # IN subquery the planner may rescan it once per row (nested-loop semi join), each scan
    # locking further requests, and the claim took far more than `limit` (core/claims.py).
    if ids is None:
        picked = (
            _runnable(settings)
            .limit(limit)
            .with_for_update(of=RightsRequest, skip_locked=True)
            .cte("picked")
            .prefix_with("MATERIALIZED")
        )
        chosen = RightsRequest.id.in_(select(picked.c.id))
    else:
        chosen = RightsRequest.id.in_(ids[:limit])
    return _won(
        session,
        update(RightsRequest)
        .where(chosen, RightsRequest.status == Status.EXECUTING.value, _free(settings))
        .values(lease_until=until, lease_holder=holder)
        .execution_options(synchronize_session=False),
        until,
    )


def run_request(
    factory: sessionmaker[Session],
    settings: Settings,
    request_id: str,
    leased: datetime | None = None,
    taken: Taken | None = None,
) -> str:
    """Execute one request to completion; safe to call again after any crash. Returns status.
    `leased`: the lease end when the caller already claimed it (`take_runnable`); `taken`: that
    claim's read back, when it was this request's first (nothing ran on it since)."""
    with factory() as session:
        if leased is None:
            taken = _take(session, request_id, timedelta(seconds=settings.lease_seconds), settings)
            leased = taken.leases.get(request_id)
        if leased is None:
            req = session.get(RightsRequest, request_id)
            return req.status if req else "missing"
        if taken is not None and request_id in taken.rows:
            req = taken.rows[request_id]
            session.add(req)  # as claimed: no need to read it again
            claimed.hold(session, taken.revision, taken.untouched & {request_id})
        else:
            req = service.access_request(session, request_id)
        try:
            outcome = kind_of(req.request_type).run(session, settings, req)
            if outcome is None:  # waiting for partners or manual tasks; an answer wakes it sooner
                _recheck_later(session, req.id, leased)
                return req.status
        except (ConnectorError, NotFoundError) as exc:
            # Kept executing with the lease released, so a later run retries it.
            log.warning("request %s: cannot finish yet (%s); will retry", req.reference, exc.code)
            req.lease_until = utcnow() + timedelta(minutes=1)
            req.summary = {**req.summary, "last_error": exc.detail}
            session.commit()
            return req.status
        req.summary, req.lease_until = outcome.summary, None
        service.move(session, req, outcome.status, actor="worker", detail=outcome.detail)
        service.notify_consumer(session, settings, req, outcome.template, outcome.context)
        session.commit()
        return req.status


def _recheck_later(session: Session, request_id: str, leased: datetime) -> None:
    # Only while the lease is still the one this worker took: a partner's answer that came in
    # during this pass cleared it, and must not be pushed back by the recheck interval. The
    # claim's own value is compared, never a reload (which could already read the cleared lease).
    session.execute(
        update(RightsRequest)
        .where(RightsRequest.id == request_id, RightsRequest.lease_until == leased)
        .values(lease_until=utcnow() + PARTNER_RECHECK)
        .execution_options(synchronize_session=False)
    )
    session.commit()


def run_erasures(
    factory: sessionmaker[Session],
    settings: Settings,
    request_ids: list[str],
    leases: dict[str, datetime] | None = None,
    taken: Taken | None = None,
) -> int:
    """Erase for many deletion requests with one read and one write pass per collection, then
    finish them together (`erasure_batch`; each alone, as `run_request` does, with
    `erasure_batches` off). Returns how many were erased in the batch.
    `leases`: the requests' lease ends when the caller already claimed them (`taken`: with
    what the claim read back)."""
    lease = timedelta(seconds=settings.lease_seconds)
    with factory() as session:
        if leases is None:
            leases = {}
            for rid in request_ids:
                until = claim(session, rid, lease, settings)
                if until is not None:
                    leases[rid] = until
        mine = [rid for rid in request_ids if rid in leases]
        loaded = {r.id: r for r in _loaded(session, mine, taken)}
        reqs = [r for r in map(loaded.get, mine) if r and kind_of(r.request_type).batched]
        try:
            plan_erasures(session, settings, reqs)
            apply_erasures(session, settings, [r.id for r in reqs])
        except (ConnectorError, NotFoundError) as exc:
            log.warning(
                "erasure batch of %d: cannot finish yet (%s); will retry", len(reqs), exc.code
            )
        session.commit()
        left = mine
        if settings.erasure_batches:  # the bookkeeping of the batch, in one transaction
            batch = {r.id for r in reqs}
            finished = finish_erasures(
                session,
                settings,
                {rid: leases[rid] for rid in batch},
                recheck_at=utcnow() + PARTNER_RECHECK,
            )
            session.commit()
            # Not held any more (taken over, or no longer executing): another's, or done.
            left = [rid for rid in mine if rid not in batch or rid in finished.left]
    for rid in left:  # each finished alone: retried, or reported, as `run_request` does
        run_request(factory, settings, rid, leases[rid])
    return len(reqs)


def run_accesses(
    factory: sessionmaker[Session],
    settings: Settings,
    request_ids: list[str],
    leases: dict[str, datetime],
    taken: Taken | None = None,
) -> int:
    """Access requests this worker holds, read together in batches of `execution_batch_size`
    (one read per collection each) and finished together (`access_finish`: packages as alone,
    the batch's bookkeeping in one transaction); those it leaves are finished by `run_request`.
    Returns how many were read together."""

    def batch(session: Session, reqs: list[RightsRequest]) -> tuple[int, list[str]]:
        kept = access_batch.prefetch(session, settings, reqs)
        left = finish_accesses(session, settings, {r.id: leases[r.id] for r in reqs}, kept)
        session.commit()
        return len(kept), left

    return _held_batches(factory, settings, request_ids, leases, batch, taken)


def run_corrections(
    factory: sessionmaker[Session],
    settings: Settings,
    request_ids: list[str],
    leases: dict[str, datetime],
    taken: Taken | None = None,
) -> int:
    """Correction requests this worker holds, read, planned and applied together in batches of
    `execution_batch_size` (`correction_run`; each alone with `correction_batches` off), then
    each recorded by `run_request` from its own steps. Returns how many were corrected
    together."""

    def batch(session: Session, reqs: list[RightsRequest]) -> tuple[int, list[str]]:
        together = 0
        if settings.correction_batches:
            try:
                together = len(correction_run.correct_together(session, settings, reqs))
            except ConnectorError as exc:  # each request meets (and reports) it on its own run
                log.warning("correction batch of %d: cannot finish yet (%s)", len(reqs), exc.code)
        return together, [r.id for r in reqs]

    return _held_batches(factory, settings, request_ids, leases, batch, taken)


def _held_batches(
    factory: sessionmaker[Session],
    settings: Settings,
    request_ids: list[str],
    leases: dict[str, datetime],
    batch: Callable[[Session, list[RightsRequest]], tuple[int, list[str]]],
    taken: Taken | None = None,
) -> int:
    """The requests this worker holds, `execution_batch_size` at a time, each batch in a
    session of its own: `batch` returns how many it did together and the ids it leaves to
    `run_request`, which then runs them one by one, in the order given. Returns the first sum.
    `taken`: the claim's read back, when nothing ran on these requests since (`claimed`)."""
    together, left = 0, set[str]()
    size = settings.execution_batch_size
    mine = [rid for rid in request_ids if rid in leases]
    for start in range(0, len(mine), size):
        with factory() as session:
            chunk = mine[start : start + size]
            done, rest = batch(session, _loaded(session, chunk, taken))
            together, left = together + done, left | set(rest)
    for rid in mine:
        if rid in left:
            run_request(factory, settings, rid, leases[rid])
    return together


def _loaded(session: Session, ids: list[str], taken: Taken | None) -> list[RightsRequest]:
    """The requests `ids` in `session`: as claimed (and what the claim read, `claimed.hold`)
    when the claim read them back, else read in one query."""
    if taken is None or any(rid not in taken.rows for rid in ids):
        return list(session.scalars(select(RightsRequest).where(RightsRequest.id.in_(ids))))
    claimed.hold(session, taken.revision, taken.untouched & set(ids))
    reqs = [taken.rows[rid] for rid in ids]
    session.add_all(reqs)
    return reqs
