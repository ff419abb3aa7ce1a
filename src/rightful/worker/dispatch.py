"""Hand work to whichever worker runs: the embedded threads, or Celery when a broker is set.

The database is the source of truth: a request is `executing` (and mail `queued`) before
anything is handed on, so a message that cannot reach the broker loses nothing — the beat's
sweep queues every stranded request again. Handing on therefore never fails the caller.
"""

from __future__ import annotations

import logging
from typing import Protocol

from rightful.core.runtime import Runtime
from rightful.worker import jobs

log = logging.getLogger(__name__)


class Waker(Protocol):
    """The embedded worker, in this process or (`rightful serve --workers N`) in another."""

    def wake(self, lane: str | None = None) -> None:
        """Run `lane` (every lane if None) soon."""


class Dispatcher:
    """Wakes the embedded worker's lane or sends a Celery task; payloads are ids only."""

    def __init__(self, runtime: Runtime, embedded: Waker | None) -> None:
        self.runtime = runtime
        self.embedded = embedded

    def request_ready(self, request_id: str) -> bool:
        """A request may run now. False when the broker could not be reached: the request
        stays queued in the database and the next sweep hands it on."""
        if self.runtime.settings.broker_url:
            from rightful.worker.celery_app import queue_requests

            return queue_requests(self.runtime.settings, [request_id])
        if self.embedded is not None:
            self.embedded.wake(jobs.EXECUTION)
        return True

    def mail_queued(self) -> bool:
        """New e-mail waits in the outbox: wake the mail lane, or send it here when no worker
        runs at all (an app built without one)."""
        if self.runtime.settings.broker_url:
            from rightful.worker.celery_app import queue_lane

            return queue_lane(self.runtime.settings, jobs.MAIL)
        if self.embedded is not None:
            self.embedded.wake(jobs.MAIL)
        else:
            jobs.mail(self.runtime)
        return True
