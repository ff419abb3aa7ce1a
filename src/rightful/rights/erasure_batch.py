"""Finishing a batch of deletions together (issue 12): after the stores' changes, the
bookkeeping of every request of the batch in one transaction of a handful of statements.

`execution.run_erasures` plans and applies a batch's erasures with one read and one write pass
per collection. What each request then needs (suppression, partner notices, its record, its
status, audit events, the completion e-mail) used to be done by its own `run_request`, about 29
statements each. Here it is one read of the requests (the claim check), one of their steps, and
the same `erasure_finish.conclude` a single request goes through, whose reads and inserts are
made once for the whole batch; statuses change through `service.move` (each audited as alone),
e-mails and statuses are written in one insert and one update at the commit.

Everything is one transaction: a worker that dies before the commit leaves nothing of it, and
the next run (the stored plans make the stores' side idempotent) does it all, once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from rightful.core.clock import utcnow
from rightful.core.config import Settings
from rightful.rights import service
from rightful.rights.erasure_finish import conclude
from rightful.rights.handlers import erased
from rightful.rights.models import ErasureStep, RightsRequest
from rightful.rights.types import Status


def held(session: Session, leases: dict[str, datetime]) -> list[RightsRequest]:
    """The requests still executing under this worker's lease, locked until the commit: one
    whose lease ran out and was taken over belongs to the other worker now. (Every batch's
    claim check: `access_finish` uses it too.)"""
    by_lease: dict[datetime, list[str]] = {}
    for rid, until in leases.items():
        by_lease.setdefault(until, []).append(rid)
    mine = or_(
        *(
            and_(RightsRequest.id.in_(ids), RightsRequest.lease_until == until)
            for until, ids in by_lease.items()
        )
    )
    return list(
        session.scalars(
            select(RightsRequest)
            .where(mine, RightsRequest.status == Status.EXECUTING.value)
            .order_by(RightsRequest.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    )


def _steps(session: Session, ids: Sequence[str]) -> dict[str, list[ErasureStep]]:
    found: dict[str, list[ErasureStep]] = {rid: [] for rid in ids}
    for step in session.scalars(
        select(ErasureStep)
        .where(ErasureStep.request_id.in_(list(ids)))
        .order_by(ErasureStep.position)
    ):
        found[step.request_id].append(step)
    return found


@dataclass(frozen=True)
class Finished:
    """What a batch's bookkeeping left to its caller."""

    left: list[str]  # not applied everywhere yet: for `run_request`, which retries and reports
    waiting: list[str]  # waiting for partners or manual tasks (rechecked at `recheck_at`)


def finish_erasures(
    session: Session, settings: Settings, leases: dict[str, datetime], *, recheck_at: datetime
) -> Finished:
    """Finish together the held deletions whose erasure is applied in every system, as
    `run_request` would each (the caller commits)."""
    reqs = held(session, leases)
    steps = _steps(session, [r.id for r in reqs])
    ready = [r for r in reqs if steps[r.id] and all(s.done_at for s in steps[r.id])]
    outcomes = conclude(session, settings, [(r, steps[r.id]) for r in ready])
    finished = {}
    for req in ready:
        found = outcomes[req.id]
        if found is not None:
            finished[req.id] = outcome = erased(found)
            req.summary = outcome.summary
            service.move(session, req, outcome.status, actor="worker", detail=outcome.detail)
    now = utcnow()
    rows = [
        {
            "id": r.id,
            "status": r.status,
            "closed_at": r.closed_at,
            "summary": r.summary,
            "identities": r.identities,
            # Waiting: rechecked later, or sooner when an answer clears the lease.
            "lease_until": None if r.id in finished else recheck_at,
            "updated_at": now,
        }
        for r in ready
    ]
    for req in ready:  # written below, every row in one statement, not one UPDATE each
        session.expunge(req)
    if rows:
        session.execute(update(RightsRequest), rows)
    service.notify_consumers(  # every e-mail in one INSERT
        session,
        settings,
        [(r, done.template, done.context) for r in ready if (done := finished.get(r.id))],
    )
    waiting = [r.id for r in ready if r.id not in finished]
    return Finished([r.id for r in reqs if r not in ready], waiting)
