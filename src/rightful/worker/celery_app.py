"""Celery wiring for running at scale: workers on Redis or RabbitMQ run the same jobs
(worker/jobs.py) as the embedded worker, one queue per lane.

`celery -A rightful.worker.celery_app:app worker` consumes every queue; `-Q rightful.execution`
(or `.mail`, `.propagation`, `.maintenance`) gives a lane its own workers. Each worker's main
process sends the periodic jobs (`SCHEDULE`), one worker per run by a lease in the store
(worker/schedule.py), so no `celery beat` is needed; among them the sweep, which queues every
stranded request again — all of them, in batches — so a broker that lost its messages (a crash,
a restart without persistence) loses no work.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from datetime import timedelta
from functools import cache
from typing import Any

from celery import Celery, signals
from kombu.entity import Exchange, Queue
from kombu.exceptions import KombuError
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from rightful.casework.mailbox import poll as poll_mailbox
from rightful.consent import sequence_wake
from rightful.core.config import Settings
from rightful.core.db import make_engine, make_sessionmaker
from rightful.core.runtime import Runtime, build_runtime
from rightful.rights.due import run_due_daily
from rightful.rights.task_clocks import remind_task_owners
from rightful.worker import jobs, pending
from rightful.worker.preload import before_fork, rehearse
from rightful.worker.schedule import Scheduler

log = logging.getLogger(__name__)
SEQUENCE = "sequence"  # the consent sequencer's lane (worker/jobs.py)
QUEUES = {lane: f"rightful.{lane}" for lane in (*jobs.LANES, "maintenance")}  # one per lane
# Read at import, as the broker is: beat builds its schedule before any task runs.
SWEEP_SECONDS = float(os.environ.get("RIGHTFUL_SWEEP_SECONDS") or 60)
# The periodic jobs and seconds between runs: each worker's main process sends them (one worker
# per run: worker/schedule.py); `celery beat` can still run them (RIGHTFUL_CELERY_SCHEDULE=false).
SCHEDULE = {"rightful.sweep": SWEEP_SECONDS, "rightful.due": 900.0, "rightful.mailbox": 60.0}
# Publishing gives up after about two seconds: the database keeps the work for the sweep.
PUBLISH_RETRY = {"max_retries": 2, "interval_start": 0.2, "interval_step": 0.5, "interval_max": 1}

# Each queue its own exchange and key: a message goes to its lane's queue only.
_QUEUES_BY_NAME = {
    name: Queue(name, Exchange(name, type="direct"), routing_key=name)  # type: ignore[no-untyped-call]
    for name in QUEUES.values()
}

app = Celery("rightful", broker=os.environ.get("RIGHTFUL_BROKER_URL") or None)
app.conf.update(
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    broker_connection_retry_on_startup=True,
    broker_connection_timeout=3,
    task_queues=list(_QUEUES_BY_NAME.values()),
    task_default_queue=QUEUES[jobs.EXECUTION],
    task_default_exchange=QUEUES[jobs.EXECUTION],
    task_default_routing_key=QUEUES[jobs.EXECUTION],
    task_routes={
        "rightful.run_requests": {"queue": QUEUES[jobs.EXECUTION]},
        "rightful.run_request": {"queue": QUEUES[jobs.EXECUTION]},
        "rightful.sweep": {"queue": QUEUES["maintenance"]},
        "rightful.due": {"queue": QUEUES["maintenance"]},
        "rightful.mailbox": {"queue": QUEUES["maintenance"]},
    },
    # For a `celery beat` of the operator's own. What the jobs do is claimed in the database,
    # so a beat beside the workers' schedule still sends one reminder per deadline and one
    # digest a day. The sweep also asks every lane but execution for a pass.
    beat_schedule={task: {"task": task, "schedule": every} for task, every in SCHEDULE.items()},
)


@cache
def _built() -> Runtime:
    """Settings, engine and sessions: built by Celery's parent before it forks (shared by its
    pool processes, each with its own connections), or by the first task."""
    runtime = build_runtime()
    os.register_at_fork(after_in_child=lambda: runtime.engine.dispose(close=False))
    return runtime


@cache
def _runtime() -> Runtime:
    runtime = _built()
    _start_heartbeat(runtime)  # in the process that runs tasks (each prefork child)
    return runtime


def _start_heartbeat(runtime: Runtime) -> None:
    def beat() -> None:
        lanes = ",".join(QUEUES)
        while True:
            try:
                jobs.heartbeat(runtime, lanes)
            except Exception:
                log.exception("the heartbeat could not be written; trying again")
            time.sleep(runtime.settings.worker_heartbeat_seconds)

    threading.Thread(target=beat, name="rightful-heartbeat", daemon=True).start()


def configure(settings: Settings) -> Celery:
    """Point the app at the configured broker (a process that used another one, e.g. a test
    run, drops the connections it pooled for it)."""
    if app.conf.broker_url != settings.broker_url:
        app.conf.broker_url = settings.broker_url
        app._after_fork()  # Celery's own reset of the broker and producer pools
    app.conf.result_backend = None
    return app


def queue_requests(settings: Settings, request_ids: list[str]) -> bool:
    """Queue requests for the execution lane in batches; False when the broker is unreachable
    (nothing is lost: they are executing in the database, and the sweep queues them again)."""
    configure(settings)
    size = settings.worker_batch_size
    try:
        for start in range(0, len(request_ids), size):
            run_requests_task.apply_async(
                (request_ids[start : start + size],), retry=True, retry_policy=PUBLISH_RETRY
            )
    except (KombuError, OSError) as exc:
        log.warning("the broker cannot be reached (%s); the sweep will queue the work", exc)
        return False
    return True


def queue_lane(settings: Settings, lane: str, *, always: bool = False) -> bool:
    """Ask a lane (mail, propagation, …) for a pass on its own queue, when this process
    committed work for it since it last asked (`pending`), or `always` (the sweep); False when
    the broker is unreachable (the sweep asks again).

    At most one pass waits per lane: none is sent while the lane's queue holds one, since that
    pass starts after this caller's rows were committed and so will see them."""
    if not (pending.take(lane) or always):
        return True
    configure(settings)
    try:
        if _waiting(QUEUES[lane]):
            return True
        lane_task.apply_async(
            (lane,),
            queue=QUEUES[lane],
            routing_key=QUEUES[lane],
            retry=True,
            retry_policy=PUBLISH_RETRY,
        )
    except (KombuError, OSError) as exc:
        log.warning("the broker cannot be reached (%s); the sweep will run the %s lane", exc, lane)
        return False
    return True


def _waiting(queue: str) -> int:
    """Messages in `queue` no worker has taken yet (declared as the workers declare it)."""
    with app.pool.acquire(block=True) as conn:
        bound = _QUEUES_BY_NAME[queue](conn.default_channel)
        return int(bound.queue_declare().message_count)  # type: ignore[no-untyped-call]


def _ask_for_new_work(settings: Settings) -> None:
    """A pass of each lane this task gave new work (e-mail, partner notices, transfers)."""
    for lane in (jobs.MAIL, jobs.PROPAGATION):
        queue_lane(settings, lane)


# Each Rightful task retries with backoff when Rightful's store fails (a dropped connection,
# too many clients, a serialization failure): its requests were given back (jobs.execute), so
# the retry, or any worker, runs them soon; the sweep remains the backstop.
STORE_RETRY: dict[str, Any] = {
    "autoretry_for": (OperationalError,),
    "retry_backoff": 1,
    "retry_backoff_max": 60,
    "retry_jitter": True,
    "max_retries": 12,
}


@app.task(name="rightful.run_requests", **STORE_RETRY)
def run_requests_task(request_ids: list[str]) -> int:
    """Run requests (ids only, never personal data), with every other runnable one, in
    batches (`jobs.drain`)."""
    runtime = _runtime()
    try:
        return jobs.drain(runtime, request_ids)
    finally:  # what they queued goes out in its own lane, even if a later batch failed
        _ask_for_new_work(runtime.settings)


@app.task(name="rightful.run_request", **STORE_RETRY)
def run_request_task(request_id: str) -> int:
    """One request (kept for messages queued by an earlier version)."""
    return int(run_requests_task([request_id]))


@app.task(name="rightful.lane", **STORE_RETRY)
def lane_task(lane: str) -> int:
    """One lane's jobs (worker/jobs.py) until nothing due is left in it."""
    runtime, done = _runtime(), 0
    try:
        while batch := jobs.LANES[lane](runtime):
            done += batch
    finally:  # e.g. a partner notice sent by e-mail
        _ask_for_new_work(runtime.settings)
    return done


@app.task(name="rightful.sweep", **STORE_RETRY)
def sweep_task() -> int:
    """Housekeeping, then queue every stranded request again (catches anything whose message
    was lost) and a pass of every other lane."""
    runtime = _runtime()
    jobs.maintain(runtime)
    ids = jobs.stranded(runtime)
    queue_requests(runtime.settings, ids)
    for lane in jobs.LANES:
        if lane != jobs.EXECUTION:
            queue_lane(runtime.settings, lane, always=True)
    return len(ids)


@app.task(name="rightful.due", **STORE_RETRY)
def due_task() -> int:
    """Reminders, escalations and the daily digest (also part of the sweep's housekeeping)."""
    runtime = _runtime()
    with runtime.sessions() as session:
        run = run_due_daily(session, runtime.settings)
        tasks = remind_task_owners(session, runtime.settings)
    _ask_for_new_work(runtime.settings)
    return run.reminders + run.escalations + int(run.digest) + tasks.reminders + tasks.escalations


@app.task(name="rightful.mailbox", **STORE_RETRY)
def mailbox_task() -> int:
    """Read the privacy mailbox (each message claimed in the database, so two beats are safe)."""
    runtime = _runtime()
    if not runtime.settings.mailbox_host:
        return 0
    result = poll_mailbox(runtime.sessions, runtime.settings)
    _ask_for_new_work(runtime.settings)
    return sum(result.outcomes.values())


@signals.worker_init.connect
def _load_before_fork(**_: object) -> None:
    """What every pool process needs, loaded once in the parent before it forks them, so they
    share it instead of each loading its own (worker/preload.py); on PostgreSQL, with what a
    rehearsal of their jobs builds too."""
    before_fork()
    if make_url(Settings().resolved_database_url).get_backend_name() == "postgresql":
        rehearse(_built(), _REHEARSED)  # elsewhere each child builds its runtime, as before


# What each pool process runs, rehearsed by the parent before the fork (worker/preload.py); not
# the chains' check, which holds the store to its anchors on disk (an empty store to real ones).
_REHEARSED = (
    lambda runtime: jobs.heartbeat(runtime, ",".join(QUEUES)),
    jobs.tidy,
    jobs.stranded,
    *jobs.LANES.values(),
)


@signals.worker_ready.connect
def _keep_the_schedule(**_: object) -> None:
    """The worker's main process sends the periodic jobs when its lease says it is its turn
    (worker/schedule.py); the pool runs them."""
    settings = Settings()
    if not settings.celery_schedule:
        return
    # The main process's own engine: its pool processes are forked from it (and again when
    # one is replaced), and must not share its connections.
    engine = make_engine(settings.resolved_database_url, pool_size=1)
    os.register_at_fork(after_in_child=lambda: engine.dispose(close=False))
    grace = timedelta(seconds=settings.worker_silent_seconds)
    scheduler = Scheduler(
        make_sessionmaker(engine), SCHEDULE, lambda task: _send(settings, task), grace=grace
    )
    scheduler.start()


def _send(settings: Settings, task: str) -> bool:
    """Publish a periodic job's task; False when the broker is unreachable."""
    configure(settings)
    try:
        app.send_task(task, retry=True, retry_policy=PUBLISH_RETRY)
    except (KombuError, OSError) as exc:
        log.warning("the broker cannot be reached (%s); %s is sent at the next try", exc, task)
        return False
    return True


@signals.worker_ready.connect
def _listen_for_consent_writes(**_: object) -> None:
    """On PostgreSQL, writers of consent events notify (consent/sequence_wake.py): the worker's
    main process listens and asks the sequencer's lane for a pass, so an event waits for the
    sequencer's batch, not for the sweep's interval."""
    settings = Settings()
    url = make_url(settings.resolved_database_url)
    if SEQUENCE not in QUEUES or url.get_backend_name() != "postgresql":
        return
    sequence_wake.Listener(url, lambda: _ask_sequencer(settings)).start()


def _ask_sequencer(settings: Settings) -> None:
    queue_lane(settings, SEQUENCE, always=True)  # none is sent while one already waits
