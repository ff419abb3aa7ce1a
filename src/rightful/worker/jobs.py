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
from datetime import timedelta

from sqlalchemy import select

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
    run_accesses,
    run_corrections,
    run_erasures,
    run_request,
    runnable_ids,
    take_runnable,
)
from rightful.rights.kinds import batched_types, correction_types, package_types
from rightful.rights.models import RightsRequest
from rightful.rights.partners import deliver_notices
from rightful.rights.retention import expire_packages, minimise_old_requests
from rightful.rights.retention_schedule import run_retention_daily
from rightful.rights.task_clocks import remind_task_owners
from rightful.rights.transfer_worker import deliver_transfers
from rightful.security import replay, signin_limits
from rightful.security import sessions as staff_sessions
from rightful.worker.integrity import verify_chains_daily

log = logging.getLogger(__name__)
EXECUTION, MAIL, PROPAGATION = "execution", "mail", "propagation"


def execute(runtime: Runtime, ids: list[str] | None = None) -> int:
    """Claim a batch of runnable requests (of `ids`, when given) and run them, deletions with
    one pass per collection, access requests (with `access_batches`) and corrections with one
    read per collection; returns how many this worker took."""
    settings = runtime.settings
    with runtime.sessions() as session:
        leases = take_runnable(session, settings, limit=settings.worker_batch_size, ids=ids)
        deletions = sorted(
            session.scalars(
                select(RightsRequest.id).where(
                    RightsRequest.id.in_(list(leases)),
                    RightsRequest.request_type.in_(batched_types()),
                )
            )
        )
        accesses = (
            sorted(
                session.scalars(
                    select(RightsRequest.id).where(
                        RightsRequest.id.in_(list(leases)),
                        RightsRequest.request_type.in_(package_types()),
                    )
                )
            )
            if settings.access_batches
            else []
        )
        corrections = sorted(
            session.scalars(
                select(RightsRequest.id).where(
                    RightsRequest.id.in_(list(leases)),
                    RightsRequest.request_type.in_(correction_types()),
                )
            )
        )
    if len(deletions) > 1:
        run_erasures(runtime.sessions, settings, deletions, leases)
    if len(accesses) > 1:
        run_accesses(runtime.sessions, settings, accesses, leases)
    if len(corrections) > 1:
        run_corrections(runtime.sessions, settings, corrections, leases)
    for request_id, lease in leases.items():
        if len(deletions) > 1 and request_id in deletions:
            continue
        if len(accesses) > 1 and request_id in accesses:
            continue
        if len(corrections) > 1 and request_id in corrections:
            continue
        run_request(runtime.sessions, settings, request_id, lease)
    return len(leases)


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
    with runtime.sessions() as session:
        return deliver_pending(session, runtime.settings)


def propagate(runtime: Runtime) -> int:
    """Partner notices, consent deliveries and transfers; returns how many notices went out
    (the part that can come in large batches)."""
    with runtime.sessions() as session:
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
    """Housekeeping on Rightful's own data and the stores' retention; none of it is urgent."""
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
    verify_chains_daily(runtime.sessions, settings)


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
