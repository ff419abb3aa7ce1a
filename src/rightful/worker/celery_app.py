"""Celery wiring for running at scale: workers on Redis or RabbitMQ share the same functions."""

from __future__ import annotations

import os
from functools import cache

from celery import Celery

from rightful.casework.mailbox import poll as poll_mailbox
from rightful.consent.deliver import deliver_due
from rightful.core.config import Settings
from rightful.core.runtime import Runtime, build_runtime
from rightful.messaging.service import deliver_pending
from rightful.rights.due import run_due_daily
from rightful.rights.execution import run_request, runnable_ids
from rightful.rights.partners import deliver_notices
from rightful.rights.task_clocks import remind_task_owners
from rightful.rights.transfer_worker import deliver_transfers
from rightful.worker.loop import maintain

app = Celery("rightful", broker=os.environ.get("RIGHTFUL_BROKER_URL") or None)
app.conf.update(
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    broker_connection_retry_on_startup=True,
    # `celery beat` runs these; each is claimed in the database, so a beat on every machine
    # still sends one reminder per deadline and one digest a day.
    beat_schedule={
        "rightful-sweep": {"task": "rightful.sweep", "schedule": 60.0},
        "rightful-due": {"task": "rightful.due", "schedule": 900.0},
        "rightful-mailbox": {"task": "rightful.mailbox", "schedule": 60.0},
    },
)


@cache
def _runtime() -> Runtime:
    return build_runtime()


def configure(settings: Settings) -> Celery:
    """Point the app at the configured broker."""
    app.conf.broker_url = settings.broker_url
    app.conf.result_backend = None
    return app


@app.task(name="rightful.run_request")
def run_request_task(request_id: str) -> str:
    """Run one request; payload is its id, never personal data."""
    runtime = _runtime()
    status = run_request(runtime.sessions, runtime.settings, request_id)
    with runtime.sessions() as session:
        deliver_transfers(session, runtime.settings)  # a portable copy the person confirmed
        deliver_pending(session, runtime.settings)
    return status


@app.task(name="rightful.sweep")
def sweep_task() -> int:
    """Queue every runnable request (catches anything whose message was lost)."""
    runtime = _runtime()
    maintain(runtime)  # the same housekeeping as the embedded worker's
    with runtime.sessions() as session:
        ids = runnable_ids(session)
        deliver_pending(session, runtime.settings)
        deliver_notices(session, runtime.settings)
        deliver_due(session, runtime.settings)
        deliver_transfers(session, runtime.settings)
    for request_id in ids:
        run_request_task.delay(request_id)
    return len(ids)


@app.task(name="rightful.due")
def due_task() -> int:
    """Reminders, escalations and the daily digest (also part of the sweep's housekeeping)."""
    runtime = _runtime()
    with runtime.sessions() as session:
        run = run_due_daily(session, runtime.settings)
        tasks = remind_task_owners(session, runtime.settings)
        deliver_pending(session, runtime.settings)
    return run.reminders + run.escalations + int(run.digest) + tasks.reminders + tasks.escalations


@app.task(name="rightful.mailbox")
def mailbox_task() -> int:
    """Read the privacy mailbox (each message claimed in the database, so two beats are safe)."""
    runtime = _runtime()
    if not runtime.settings.mailbox_host:
        return 0
    result = poll_mailbox(runtime.sessions, runtime.settings)
    with runtime.sessions() as session:
        deliver_pending(session, runtime.settings)
    return sum(result.outcomes.values())
