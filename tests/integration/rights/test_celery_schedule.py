"""Celery's periodic jobs without `celery beat` (issue 12): each worker's main process sends
them, one worker per run by a lease in the store (worker/schedule.py).

The leases are checked with two schedulers on one store (two workers on two machines), on
SQLite and PostgreSQL; the whole path with a real Celery worker, no beat, and requests whose
messages never reached the broker: the worker's own schedule sweeps and they finish.
"""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from rightful.connectors.sql import dispose_all
from rightful.core.runtime import Runtime, build_runtime
from rightful.migrations import upgrade
from rightful.security.models import AuditEvent
from rightful.worker.schedule import ScheduledRun, Scheduler
from tests.integration.rights.test_broker_crash import (  # the same backlog and Redis
    BACKLOG,
    OwnRedis,
    approve_backlog,
    completed,
    own_redis,  # noqa: F401 - the fixture
)
from tests.support.app import make_settings, prepare
from tests.support.workers import start_celery_worker, stop, wait_for

JOBS = {"rightful.sweep": 0.6, "rightful.due": 3600.0}
GRACE = timedelta(seconds=30)


class Broker:
    """Records what a scheduler sent; `up` False refuses it, as an unreachable broker does."""

    def __init__(self) -> None:
        self.sent: list[str] = []
        self.up = True

    def send(self, task: str) -> bool:
        if self.up:
            self.sent.append(task)
        return self.up


def _store(tmp_path: Path, database_url: str | None) -> Runtime:
    overrides = {"database_url": database_url} if database_url else {}
    runtime = build_runtime(make_settings(tmp_path, **overrides))
    upgrade(runtime.engine)
    return runtime


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_two_workers_send_each_run_once_and_a_refused_send_is_retried(
    tmp_path: Path, backend: str, request: pytest.FixtureRequest
) -> None:
    url = request.getfixturevalue("postgres_url") if backend == "postgres" else None
    runtime = _store(tmp_path, url)
    brokers = [Broker(), Broker()]
    workers = [Scheduler(runtime.sessions, JOBS, b.send, grace=GRACE) for b in brokers]
    try:
        for worker in workers:
            worker.run_due()
        sent = brokers[0].sent + brokers[1].sent
        assert sorted(sent) == ["rightful.due", "rightful.sweep"]  # each once, by one of them

        time.sleep(0.7)  # the sweep's lease ran out; the hourly job's did not
        for worker in workers:
            worker.run_due()
        sent = brokers[0].sent + brokers[1].sent
        assert sorted(sent) == ["rightful.due", "rightful.sweep", "rightful.sweep"]

        # A worker whose broker refuses gives the lease back: the other sends the run at once.
        time.sleep(0.7)
        brokers[0].up = False
        workers[0].run_due()
        assert (
            brokers[0].sent.count("rightful.sweep") + brokers[1].sent.count("rightful.sweep") == 2
        )
        workers[1].run_due()
        assert (
            brokers[0].sent.count("rightful.sweep") + brokers[1].sent.count("rightful.sweep") == 3
        )
        with runtime.sessions() as session:
            assert session.scalar(select(func.count()).select_from(ScheduledRun)) == 2
    finally:
        runtime.engine.dispose()


@pytest.mark.postgres
def test_a_celery_worker_without_beat_sweeps_and_stranded_requests_finish(
    tmp_path: Path,
    postgres_url: str,
    own_redis: OwnRedis,  # noqa: F811 - the fixture imported above
) -> None:
    """Approved requests whose messages never reached the broker (as after a broker crash):
    only a sweep queues them again, and no beat runs; the worker's schedule sends it."""
    settings = make_settings(
        tmp_path, database_url=postgres_url, broker_url=own_redis.url, embedded_worker=False
    )
    runtime = prepare(settings)
    ids = approve_backlog(runtime)  # executing in the store, nothing in the broker
    assert completed(runtime, ids) == 0
    worker = start_celery_worker(runtime, RIGHTFUL_SWEEP_SECONDS="2")
    try:
        wait_for(lambda: completed(runtime, ids) == BACKLOG, "every request to finish", 120)
    finally:
        stop([worker])
    with runtime.sessions() as session:
        done = session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "request.completed", AuditEvent.subject_id.in_(ids))
        )
        leases = session.scalar(select(func.count()).select_from(ScheduledRun))
    assert done == BACKLOG  # each finished once
    assert leases == 3  # the sweep, reminders and the mailbox
    runtime.engine.dispose()
    dispose_all()
