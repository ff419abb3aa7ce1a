"""The embedded worker: polls the database (the source of truth) for work. No broker needed."""

from __future__ import annotations

import logging
import threading
import time

from sqlalchemy import select

from rightful.casework.mailbox import poll_if_due
from rightful.casework.retention import minimise_old_cases
from rightful.consent.deliver import deliver_due, mark_overdue
from rightful.core.runtime import Runtime
from rightful.messaging import limits as mail_limits
from rightful.messaging.service import deliver_pending
from rightful.rights.due import run_due_daily
from rightful.rights.erasure_run import destroy_retained
from rightful.rights.execution import run_erasures, run_request, runnable_ids
from rightful.rights.kinds import batched_types
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


MAINTENANCE_SECONDS = 60.0


def maintain(runtime: Runtime) -> None:
    """Housekeeping on Rightful's own data and the stores' retention; none of it is urgent."""
    with runtime.sessions() as session:
        expire_packages(session, runtime.settings)
        minimise_old_requests(session, runtime.settings)
        minimise_old_cases(session, runtime.settings)
        destroy_retained(session, runtime.settings)
        run_retention_daily(session, runtime.settings)
        staff_sessions.forget_old(session)
        signin_limits.forget_old(session, runtime.settings)
        mark_overdue(session, runtime.settings)
        run_due_daily(session, runtime.settings)  # reminders, escalations, the digest
        remind_task_owners(session, runtime.settings)  # manual tasks keep the same clocks
        mail_limits.forget_old(session)
        replay.forget_expired(session)
        session.commit()
    verify_chains_daily(runtime.sessions, runtime.settings)


def run_once(runtime: Runtime, *, maintenance: bool = True) -> int:
    """Deliver mail and notices, run every runnable request once (and, unless told not to,
    housekeeping); returns how many requests ran."""
    if maintenance:
        maintain(runtime)
    try:  # the privacy mailbox, when one is configured; its failure never stops other work
        poll_if_due(runtime.sessions, runtime.settings)
    except Exception:
        log.exception("reading the privacy mailbox failed; retrying at the next interval")
    with runtime.sessions() as session:
        deliver_pending(session, runtime.settings)
        deliver_notices(session, runtime.settings)
        deliver_due(session, runtime.settings)
        deliver_transfers(session, runtime.settings)
        ids = runnable_ids(session)
        deletions = set(
            session.scalars(
                select(RightsRequest.id).where(
                    RightsRequest.id.in_(ids),
                    RightsRequest.request_type.in_(batched_types()),
                )
            )
        )
    if len(deletions) > 1:  # one read and one write pass per collection for all of them
        run_erasures(runtime.sessions, runtime.settings, sorted(deletions))
    for request_id in ids:
        if len(deletions) <= 1 or request_id not in deletions:
            run_request(runtime.sessions, runtime.settings, request_id)
    if ids:  # what the requests just queued goes out in the same pass
        with runtime.sessions() as session:
            deliver_notices(session, runtime.settings)
            deliver_transfers(session, runtime.settings)
            deliver_pending(session, runtime.settings)
    return len(ids)


class EmbeddedWorker:
    """A background thread running `run_once` every `interval` seconds, or when woken."""

    def __init__(self, runtime: Runtime, interval: float = 2.0) -> None:
        self.runtime = runtime
        self.interval = interval
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self.run_forever, name="rightful-worker", daemon=True
        )

    def start(self) -> None:
        """Start polling."""
        self._thread.start()

    def wake(self) -> None:
        """Run soon, e.g. right after a request was approved."""
        self._wake.set()

    def stop(self) -> None:
        """Finish the current pass and stop."""
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout=30)

    def run_forever(self) -> None:
        """Poll until stopped: requests and mail every pass, housekeeping once a minute."""
        last_maintenance = float("-inf")
        while not self._stop.is_set():
            # Each part must outlive any one failure (the DB keeps the work), and failing
            # housekeeping must never hold up requests.
            if time.monotonic() - last_maintenance >= MAINTENANCE_SECONDS:
                last_maintenance = time.monotonic()
                try:
                    maintain(self.runtime)
                except Exception:
                    log.exception("housekeeping failed; retrying in a minute")
            try:
                run_once(self.runtime, maintenance=False)
            except Exception:
                log.exception("worker pass failed; retrying")
            self._wake.wait(self.interval)
            self._wake.clear()
