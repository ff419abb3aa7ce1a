"""Consent deliveries are claimed in the database (issue 12): two `rightful worker` processes
on one backlog send each change to each webhook once and audit each acknowledgement once —
also when one worker is killed (SIGKILL) in the middle of a POST, whose deliveries another
worker finishes as soon as the killed one's heartbeat stops, not after its lease."""

from __future__ import annotations

import subprocess
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from rightful.connectors.sql import dispose_all
from rightful.consent import catalog, destinations, ledger, subjects
from rightful.consent.catalog import Interface, State
from rightful.consent.destinations import DestinationSpec
from rightful.consent.models import ConsentDelivery, ConsentEvent
from rightful.core.db import unit_of_work
from rightful.core.runtime import Runtime
from rightful.security.models import AuditEvent
from tests.support import workers
from tests.support.app import make_settings, prepare
from tests.support.counting_receiver import CountingReceiver

PARTNERS = ("brightads", "payflow", "parcelgo")
PEOPLE = 10  # 30 deliveries


@pytest.fixture
def receiver() -> Iterator[CountingReceiver]:
    server = CountingReceiver()
    yield server
    server.close()


def backlog(tmp_path: Path, database_url: str, server: CountingReceiver) -> Runtime:
    """A Rightful on PostgreSQL with three webhook destinations on `server`, and one opt-out
    each of PEOPLE people queued for all three, waiting for a worker."""
    runtime = prepare(
        make_settings(tmp_path, database_url=database_url, allow_http_webhooks=True), people=4
    )
    specs = [
        DestinationSpec(key=key, name=f"Partner {key}", kind="webhook", url=server.url(key))
        for key in PARTNERS
    ]
    with unit_of_work(runtime.sessions) as session:
        destinations.apply_destinations(session, specs, actor="test", http_webhooks=True)
    choice = [ledger.Choice(catalog.SALE_SHARE, "all", State.WITHDRAWN)]
    with unit_of_work(runtime.sessions) as session:
        for n in range(PEOPLE):
            person = subjects.person(session, runtime.settings, f"person{n}@example.com")
            ledger.record(
                session, runtime.settings, person, choice, ledger.Collected(Interface.API)
            )
    return runtime


def start_worker(runtime: Runtime) -> subprocess.Popen[bytes]:
    return workers.start_worker(
        runtime,
        RIGHTFUL_ALLOW_HTTP_WEBHOOKS="true",
        RIGHTFUL_WORKER_BATCH_SIZE="4",  # small batches: both workers take part
    )


def all_acknowledged(runtime: Runtime) -> Callable[[], bool]:
    def check() -> bool:
        with runtime.sessions() as session:
            statuses = session.scalars(select(ConsentDelivery.status)).all()
            return len(statuses) == len(PARTNERS) * PEOPLE and set(statuses) == {"acknowledged"}

    return check


def assert_each_delivery_once(runtime: Runtime, server: CountingReceiver) -> None:
    with runtime.sessions() as session:
        sent = session.execute(
            select(ConsentDelivery.id, ConsentDelivery.destination_key, ConsentEvent.uid).join(
                ConsentEvent, ConsentEvent.id == ConsentDelivery.event_id
            )
        ).all()
        audited = Counter(
            session.scalars(
                select(AuditEvent.subject_id).where(AuditEvent.action == "consent.delivered")
            )
        )
    assert set(server.accepted) == {(key, uid) for _, key, uid in sent}
    assert server.twice() == []  # no webhook told the same change twice
    assert audited == Counter(str(delivery_id) for delivery_id, _, _ in sent)  # one event each


@pytest.mark.postgres
def test_two_workers_on_one_backlog_deliver_each_change_once_with_one_audit_event(
    tmp_path: Path, postgres_url: str, receiver: CountingReceiver
) -> None:
    runtime = backlog(tmp_path, postgres_url, receiver)
    pair = [start_worker(runtime), start_worker(runtime)]
    try:
        workers.wait_for(
            all_acknowledged(runtime), "both workers to deliver the backlog", seconds=120
        )
    finally:
        workers.stop(pair)
    assert_each_delivery_once(runtime, receiver)
    assert receiver.posts == len(PARTNERS) * PEOPLE
    runtime.engine.dispose()
    dispose_all()


@pytest.mark.postgres
def test_a_worker_killed_mid_post_leaves_its_deliveries_to_another_sent_once(
    tmp_path: Path, postgres_url: str
) -> None:
    server = CountingReceiver(hold_nth=3)
    try:
        runtime = backlog(tmp_path, postgres_url, server)
        workers.kill_while_held(start_worker(runtime), server, "the third change")
        pair = [start_worker(runtime), start_worker(runtime)]
        try:
            # Seconds once the heartbeat stops; the killed worker's lease would run minutes.
            workers.wait_for(
                all_acknowledged(runtime), "the others to finish the backlog", seconds=90
            )
        finally:
            workers.stop(pair)
        assert_each_delivery_once(runtime, server)
        runtime.engine.dispose()
        dispose_all()
    finally:
        server.close()
