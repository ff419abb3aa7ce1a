"""Run approved requests off the web request; every step is recorded so a crash resumes."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from rightful.core.clock import utcnow
from rightful.core.config import Settings
from rightful.core.errors import ConnectorError, NotFoundError
from rightful.rights import service
from rightful.rights.erasure_run import apply_erasures, plan_erasures
from rightful.rights.kinds import automated_types, kind_of
from rightful.rights.models import RightsRequest
from rightful.rights.types import Status

log = logging.getLogger(__name__)
# Steps are committed in batches: small requests cost one commit, long ones lose little work.
CHECKPOINT_SECONDS = 2.0
PARTNER_RECHECK = timedelta(minutes=10)


def claim(session: Session, request_id: str, lease: timedelta) -> datetime | None:
    """Take a lease on an executing request so one worker runs it at a time; returns the lease's
    end, which identifies this claim, or None when another worker holds it.

    A worker that dies keeps its lease until it runs out; then another takes the work over.
    """
    now = utcnow()
    until = now + lease
    result = session.execute(
        update(RightsRequest)
        .where(
            RightsRequest.id == request_id,
            RightsRequest.status == Status.EXECUTING.value,
            or_(RightsRequest.lease_until.is_(None), RightsRequest.lease_until < now),
        )
        .values(lease_until=until)
    )
    session.commit()
    return until if result.rowcount else None  # type: ignore[attr-defined]


def runnable_ids(session: Session, limit: int = 20) -> list[str]:
    """Executing, automated requests whose lease is free."""
    stmt = (
        select(RightsRequest.id)
        .where(
            RightsRequest.status == Status.EXECUTING.value,
            RightsRequest.request_type.in_(automated_types()),
            or_(RightsRequest.lease_until.is_(None), RightsRequest.lease_until < utcnow()),
        )
        .order_by(RightsRequest.updated_at)
        .limit(limit)
    )
    return list(session.scalars(stmt))


def run_request(factory: sessionmaker[Session], settings: Settings, request_id: str) -> str:
    """Execute one request to completion; safe to call again after any crash. Returns status."""
    with factory() as session:
        leased = claim(session, request_id, timedelta(seconds=settings.lease_seconds))
        if leased is None:
            req = session.get(RightsRequest, request_id)
            return req.status if req else "missing"
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


def run_erasures(factory: sessionmaker[Session], settings: Settings, request_ids: list[str]) -> int:
    """Erase for many deletion requests with one read and one write pass per collection, then
    finish each request as `run_request` does. Returns how many were erased in the batch."""
    lease = timedelta(seconds=settings.lease_seconds)
    with factory() as session:
        mine = [rid for rid in request_ids if claim(session, rid, lease) is not None]
        reqs = [
            r
            for r in (session.get(RightsRequest, rid) for rid in mine)
            if r is not None and kind_of(r.request_type).batched
        ]
        try:
            plan_erasures(session, settings, reqs)
            apply_erasures(session, settings, [r.id for r in reqs])
        except (ConnectorError, NotFoundError) as exc:
            log.warning(
                "erasure batch of %d: cannot finish yet (%s); will retry", len(reqs), exc.code
            )
        session.execute(
            update(RightsRequest).where(RightsRequest.id.in_(mine)).values(lease_until=None)
        )
        session.commit()
    for rid in mine:  # plans are stored and applied: this is the per-request bookkeeping
        run_request(factory, settings, rid)
    return len(reqs)
