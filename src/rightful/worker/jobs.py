"""The one list of the workers' jobs, run by the embedded worker's threads and by Celery alike.

Work runs in three lanes, each with its own thread (embedded) or queue (Celery), so a partner
that hangs or a mail server that is down never holds up requests:

- **execution**: approved requests, deletions together in batches;
- **mail**: the outbox;
- **propagation**: partner erasure notices, consent deliveries and portability transfers.

Housekeeping and the privacy mailbox run beside them. Every job is safe on any number of
workers at once: each request, send and notice is claimed in the database before it is done.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from rightful.casework.mailbox import poll_if_due
from rightful.casework.retention import minimise_old_cases
from rightful.consent import sequencer
from rightful.consent.deliver import deliver_due, mark_overdue
from rightful.core import claims
from rightful.core.runtime import Runtime
from rightful.drop.refresh import refresh_if_due
from rightful.messaging import limits as mail_limits
from rightful.messaging.service import deliver_pending
from rightful.rights.due import run_due_daily
from rightful.rights.erasure_run import destroy_retained
from rightful.rights.execution import (
    Taken,
    run_accesses,
    run_corrections,
    run_erasures,
    run_request,
    runnable_ids,
    take,
)
from rightful.rights.kinds import batched_types, correction_types, package_types
from rightful.rights.models import RightsRequest
from rightful.rights.partners import deliver_notices
from rightful.rights.retention import expire_packages, minimise_old_requests
from rightful.rights.retention_schedule import run_retention_daily
from rightful.rights.task_clocks import remind_task_owners
from rightful.rights.transfer_worker import deliver_transfers
from rightful.rights.types import Status
from rightful.security import replay, signin_limits
from rightful.security import sessions as staff_sessions
from rightful.worker import pending
from rightful.worker.integrity import verify_chains_daily

log = logging.getLogger(__name__)
EXECUTION, MAIL, PROPAGATION = "execution", pending.MAIL, pending.PROPAGATION


def execute(runtime: Runtime, ids: list[str] | None = None) -> int:
    """Claim a batch of runnable requests (of `ids`, when given) and run them, deletions with
    one pass per collection, access requests (with `access_batches`) and corrections with one
    read per collection; returns how many this worker took."""
    settings = runtime.settings
    _release_unreleased(runtime)
    with runtime.sessions() as session:
        taken = take(session, settings, limit=settings.worker_batch_size, ids=ids)
        types = _types(session, taken)
    try:
        _run(runtime, taken, types)
    except OperationalError:
        # Rightful's store failed (connection dropped, too many clients, a serialization
        # failure): give the leases back so a retry (Celery's, with backoff) or another
        # worker takes the requests now, not when the leases end. Steps done are kept.
        _unreleased.update(taken.leases)
        _release_unreleased(runtime)
        raise
    return len(taken.leases)


def _run(runtime: Runtime, taken: Taken, types: dict[str, str]) -> None:
    settings, leases = runtime.settings, taken.leases
    batches = [
        (run_erasures, _of(types, batched_types())),
        (run_accesses, _of(types, package_types()) if settings.access_batches else []),
        (run_corrections, _of(types, correction_types())),
    ]
    alone = dict(leases)
    for run, batch in batches:
        if len(batch) > 1:  # a batch of one runs on the single request's path
            run(runtime.sessions, settings, batch, leases, taken)
            for request_id in batch:
                alone.pop(request_id)
    for request_id, lease in alone.items():
        run_request(runtime.sessions, settings, request_id, lease, taken)


def _types(session: Session, taken: Taken) -> dict[str, str]:
    """Each taken request's type: as claimed, or read in one query."""
    ids = list(taken.leases)
    if taken.rows or not ids:
        return {rid: req.request_type for rid, req in taken.rows.items()}
    rows = session.execute(
        select(RightsRequest.id, RightsRequest.request_type).where(RightsRequest.id.in_(ids))
    )
    return {request_id: str(kind) for request_id, kind in rows}


def _of(types: dict[str, str], kinds: list[str]) -> list[str]:
    return sorted(request_id for request_id, kind in types.items() if kind in kinds)


# Leases this process took and could not give back yet (the store was down): tried again
# before its next batch; if the process dies first, its silent heartbeat frees them.
_unreleased: dict[str, datetime] = {}


def _release_unreleased(runtime: Runtime) -> None:
    """Give back this process's leases on requests a failed batch left executing; best effort."""
    if not _unreleased:
        return
    leases = dict(_unreleased)
    try:
        with runtime.sessions() as session:
            for until in set(leases.values()):
                session.execute(
                    update(RightsRequest)
                    .where(
                        RightsRequest.id.in_([i for i, u in leases.items() if u == until]),
                        RightsRequest.status == Status.EXECUTING.value,
                        RightsRequest.lease_until == until,
                        func.substr(RightsRequest.lease_holder, 1, claims.ID_LENGTH)
                        == claims.worker_id(),
                    )
                    .values(lease_until=None, lease_holder=None)
                    .execution_options(synchronize_session=False)
                )
            session.commit()
    except OperationalError:
        log.warning("the store is still failing; %d leases are given back later", len(leases))
        return
    for request_id in leases:
        _unreleased.pop(request_id, None)


def drain(runtime: Runtime, ids: list[str] | None = None) -> int:
    """Run every runnable request, a batch at a time, then `ids` if no pass took them.

    Each approval sends Celery a message with its one id; run alone, each would be a batch of
    one. Draining lets the first message run a burst together (the batch path), and the
    messages for requests it took find them claimed and end at once."""
    ran = 0
    while batch := execute(runtime):
        ran += batch
    if ids:  # not runnable a moment ago (e.g. approved since): one more try for them
        ran += execute(runtime, ids)
    return ran


def mail(runtime: Runtime) -> int:
    """Send what the outbox holds and is due; returns how many were sent."""
    with pending.quiet(MAIL), runtime.sessions() as session:
        return deliver_pending(session, runtime.settings)


def propagate(runtime: Runtime) -> int:
    """Partner notices, consent deliveries and transfers; returns how many notices went out
    (the part that can come in large batches)."""
    with pending.quiet(PROPAGATION), runtime.sessions() as session:
        sent = deliver_notices(session, runtime.settings)
        deliver_due(session, runtime.settings)
        deliver_transfers(session, runtime.settings)
    return sent


LANES: dict[str, Callable[[Runtime], int]] = {
    EXECUTION: execute,
    MAIL: mail,
    PROPAGATION: propagate,
    "sequence": lambda runtime: sequencer.run_once(runtime.sessions, runtime.settings),
}


def maintain(runtime: Runtime) -> None:
    """Housekeeping on Rightful's own data and the stores' retention, then the daily check of
    the tamper-evident chains; none of it is urgent."""
    tidy(runtime)
    verify_chains_daily(runtime.sessions, runtime.settings)


def tidy(runtime: Runtime) -> None:
    """The housekeeping of `maintain`, without the chains' check (which also reads and writes
    their anchors, files outside the store)."""
    settings = runtime.settings
    with runtime.sessions() as session:
        expire_packages(session, settings)
        minimise_old_requests(session, settings)
        minimise_old_cases(session, settings)
        destroy_retained(session, settings)
        run_retention_daily(session, settings)
        staff_sessions.forget_old(session)
        signin_limits.forget_old(session, settings)
        mark_overdue(session, settings)
        run_due_daily(session, settings)  # reminders, escalations, the digest
        remind_task_owners(session, settings)  # manual tasks keep the same clocks
        mail_limits.forget_old(session)
        replay.forget_expired(session)
        claims.forget_dead(session, older_than=_long_gone(runtime))
        session.commit()
    refresh_drop_index(runtime)


def refresh_drop_index(runtime: Runtime) -> None:
    """Keep DROP's index of the stores current, daily while DROP is in use; a store that is
    down waits for the next try (the next import refreshes it anyway)."""
    try:
        with runtime.sessions() as session:
            refresh_if_due(session, runtime.settings)
    except Exception:
        log.exception("refreshing the DROP index failed; retrying at the next housekeeping")


def read_mailbox(runtime: Runtime) -> None:
    """The privacy mailbox, when one is configured and due; a failure waits for the next try."""
    try:
        poll_if_due(runtime.sessions, runtime.settings)
    except Exception:
        log.exception("reading the privacy mailbox failed; retrying at the next interval")


def stranded(runtime: Runtime) -> list[str]:
    """Every executing request no live worker holds: what a sweep queues again, all of it."""
    with runtime.sessions() as session:
        return runnable_ids(session, None, runtime.settings)


def heartbeat(runtime: Runtime, lanes: str) -> None:
    """Say this worker process is alive (its claims stay its own)."""
    with runtime.sessions() as session:
        claims.beat(session, lanes=lanes)
        session.commit()


def _long_gone(runtime: Runtime) -> timedelta:
    return timedelta(seconds=max(runtime.settings.worker_silent_seconds * 10, 3600))
