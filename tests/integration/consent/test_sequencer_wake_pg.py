"""Writers wake the worker's sequencer on PostgreSQL: with its poll an hour away, a choice just
recorded is still given its place in a signed tree head while the test waits — by the embedded
worker, and by a Celery worker with no beat (so no sweep asks its lane for a pass)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from rightful.consent import catalog, ledger, subjects
from rightful.consent.catalog import Interface, State
from rightful.consent.models import ConsentEvent, ConsentTreeHead
from rightful.core.db import unit_of_work
from rightful.core.runtime import Runtime, build_runtime
from rightful.migrations import upgrade
from rightful.worker.loop import EmbeddedWorker
from tests.support.app import make_settings
from tests.support.workers import start_celery_worker, stop

pytestmark = pytest.mark.postgres

HOUR = 3600.0
WAIT = 30.0  # the test's patience, far below the poll


@pytest.fixture
def runtime(tmp_path: Path, postgres_url: str) -> Iterator[Runtime]:
    settings = make_settings(
        tmp_path, database_url=postgres_url, consent_sequencer_poll_seconds=HOUR
    )
    made = build_runtime(settings)
    upgrade(made.engine)
    with unit_of_work(made.sessions) as session:
        catalog.ensure_built_in(session)
    yield made
    made.engine.dispose()


def record(runtime: Runtime, address: str) -> str:
    with unit_of_work(runtime.sessions) as session:
        person = subjects.person(session, runtime.settings, address)
        choice = [ledger.Choice(catalog.SALE_SHARE, "all", State.WITHDRAWN)]
        [event] = ledger.record(
            session, runtime.settings, person, choice, ledger.Collected(Interface.API)
        )
        return event.uid


def signed_head_including(runtime: Runtime, uid: str, patience: float = WAIT) -> int:
    """The size of a signed head that includes the event, waiting for one at most `patience`."""
    deadline = time.monotonic() + patience
    while True:
        with runtime.sessions() as session:
            position = session.scalar(select(ConsentEvent.position).filter_by(uid=uid))
            size = session.scalar(
                select(ConsentTreeHead.tree_size).order_by(ConsentTreeHead.tree_size.desc())
            )
        if position is not None and size is not None and size > position:
            return size
        assert time.monotonic() < deadline, "no signed head includes the event: nobody woke it"
        time.sleep(0.1)


def test_a_recorded_choice_wakes_the_sequencer_long_before_its_poll(runtime: Runtime) -> None:
    worker = EmbeddedWorker(runtime, interval=HOUR)
    worker.start()
    try:
        assert worker.sequence_wake is not None
        assert worker.sequence_wake.live.wait(WAIT), "the wake-up listener never listened"
        time.sleep(1.0)  # the lane's first pass (nothing pending) is over; it now waits an hour
        first = record(runtime, "ada@example.com")
        assert signed_head_including(runtime, first) == 1
        second = record(runtime, "grace@example.com")  # a later write wakes it again
        assert signed_head_including(runtime, second) == 2
    finally:
        worker.stop()


@pytest.mark.redis
def test_a_recorded_choice_wakes_the_sequencer_on_celery_with_no_sweep(
    tmp_path: Path, postgres_url: str, redis_url: str
) -> None:
    settings = make_settings(
        tmp_path,
        database_url=postgres_url,
        broker_url=redis_url,
        embedded_worker=False,
        consent_sequencer_poll_seconds=HOUR,
    )
    made = build_runtime(settings)
    upgrade(made.engine)
    with unit_of_work(made.sessions) as session:
        catalog.ensure_built_in(session)
    worker = start_celery_worker(made)
    try:
        # The worker's listener may not be up yet: a choice recorded before it listens is
        # sequenced by the next wake-up, so keep recording until one is included.
        deadline = time.monotonic() + WAIT
        uid, n = "", 0
        while True:
            n += 1
            uid = record(made, f"person{n}@example.com")
            try:
                signed_head_including(made, uid, patience=1.0)
                break
            except AssertionError:
                assert time.monotonic() < deadline, "no signed head: nobody woke the sequencer"
        later = record(made, "later@example.com")  # a later write wakes it again
        assert signed_head_including(made, later) == n + 1
    finally:
        stop([worker])
        made.engine.dispose()
