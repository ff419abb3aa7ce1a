"""Hand work to whichever worker runs: the embedded thread, or Celery when a broker is set."""

from __future__ import annotations

from rightful.core.runtime import Runtime
from rightful.messaging.service import deliver_pending
from rightful.worker.loop import EmbeddedWorker


class Dispatcher:
    """Wakes the embedded worker or sends a Celery task; payloads are ids only."""

    def __init__(self, runtime: Runtime, embedded: EmbeddedWorker | None) -> None:
        self.runtime = runtime
        self.embedded = embedded

    def request_ready(self, request_id: str) -> None:
        """A request may run now."""
        if self.runtime.settings.broker_url:
            from rightful.worker.celery_app import configure, run_request_task

            configure(self.runtime.settings)
            run_request_task.delay(request_id)
        elif self.embedded is not None:
            self.embedded.wake()

    def mail_queued(self) -> None:
        """New e-mail waits in the outbox."""
        if self.embedded is not None:
            self.embedded.wake()
        else:
            with self.runtime.sessions() as session:
                deliver_pending(session, self.runtime.settings)
