"""Portability transfers are claimed in the database (issue 12): two `rightful worker`
processes on one backlog POST each portable copy to its endpoint once and audit each outcome
once — also when one worker is killed (SIGKILL) in the middle of a POST, whose transfers
another worker finishes as soon as the killed one's heartbeat stops, not after its lease."""

from __future__ import annotations

import subprocess
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text

from rightful.connectors.sql import dispose_all
from rightful.core.runtime import Runtime
from rightful.demo.estate import demo_urls
from rightful.rights.transfer_models import PortabilityTransfer
from rightful.security.models import AuditEvent
from tests.integration.portability.support import approve_and_run, confirm, deliver, submit
from tests.support import workers
from tests.support.app import make_settings, prepare
from tests.support.counting_receiver import CountingReceiver

TRANSFERS = 8


def backlog(tmp_path: Path, database_url: str, server: CountingReceiver) -> tuple[Runtime, list]:
    """A Rightful on PostgreSQL trusting the receiver's CA, with TRANSFERS portable copies
    confirmed by the person and built, each to its own endpoint on `server`."""
    runtime = prepare(
        make_settings(
            tmp_path,
            database_url=database_url,
            transfer_ca_file=server.ca_file,
            transfer_allow_private_addresses=True,
        ),
        people=20,
    )
    store = create_engine(demo_urls(runtime.settings.data_dir)["storefront"])
    with store.connect() as conn:
        people = conn.execute(
            text(
                "SELECT email, phone, first_name || ' ' || last_name FROM customers "
                "ORDER BY id LIMIT :n"
            ),
            {"n": TRANSFERS},
        ).all()
    store.dispose()
    ids = [
        submit(
            runtime,
            server.url(f"inbox{n}"),
            person={"email": email, "phone_number": phone, "name": name},
        )
        for n, (email, phone, name) in enumerate(people)
    ]
    deliver(runtime)  # asks each person to confirm
    for request_id in ids:
        assert confirm(runtime, request_id) == "confirmed"
        approve_and_run(runtime, request_id)
    return runtime, ids


def start_worker(runtime: Runtime) -> subprocess.Popen[bytes]:
    return workers.start_worker(
        runtime,
        RIGHTFUL_TRANSFER_CA_FILE=str(runtime.settings.transfer_ca_file),
        RIGHTFUL_TRANSFER_ALLOW_PRIVATE_ADDRESSES="true",
        RIGHTFUL_WORKER_BATCH_SIZE="3",  # small batches: both workers take part
    )


def all_accepted(runtime: Runtime, ids: list[str]) -> Callable[[], bool]:
    def check() -> bool:
        with runtime.sessions() as session:
            statuses = session.scalars(
                select(PortabilityTransfer.status).where(PortabilityTransfer.request_id.in_(ids))
            ).all()
            return len(statuses) == len(ids) and set(statuses) == {"accepted"}

    return check


def assert_each_transfer_once(runtime: Runtime, ids: list[str], server: CountingReceiver) -> None:
    with runtime.sessions() as session:
        uids = {
            request_id: uid
            for request_id, uid in session.execute(
                select(PortabilityTransfer.request_id, PortabilityTransfer.uid).where(
                    PortabilityTransfer.request_id.in_(ids)
                )
            )
        }
        accepted = Counter(
            session.scalars(
                select(AuditEvent.subject_id).where(
                    AuditEvent.action == "transfer.accepted", AuditEvent.subject_id.in_(ids)
                )
            )
        )
    assert set(server.accepted) == {(f"inbox{n}", uids[rid]) for n, rid in enumerate(ids)}
    assert server.twice() == []  # no endpoint took the same copy twice
    assert accepted == Counter(ids)  # one audit event each


@pytest.mark.postgres
def test_two_workers_on_one_backlog_post_each_copy_once_with_one_audit_event(
    tmp_path: Path, postgres_url: str
) -> None:
    server = CountingReceiver(tls_folder=tmp_path)
    try:
        runtime, ids = backlog(tmp_path, postgres_url, server)
        pair = [start_worker(runtime), start_worker(runtime)]
        try:
            workers.wait_for(
                all_accepted(runtime, ids), "both workers to send the backlog", seconds=120
            )
        finally:
            workers.stop(pair)
        assert_each_transfer_once(runtime, ids, server)
        assert server.posts == TRANSFERS
        runtime.engine.dispose()
        dispose_all()
    finally:
        server.close()


@pytest.mark.postgres
def test_a_worker_killed_mid_post_leaves_its_transfers_to_another_sent_once(
    tmp_path: Path, postgres_url: str
) -> None:
    server = CountingReceiver(tls_folder=tmp_path, hold_nth=2)
    try:
        runtime, ids = backlog(tmp_path, postgres_url, server)
        workers.kill_while_held(start_worker(runtime), server, "the second copy")
        pair = [start_worker(runtime), start_worker(runtime)]
        try:
            # Seconds once the heartbeat stops; the killed worker's lease would run minutes.
            workers.wait_for(
                all_accepted(runtime, ids), "the others to finish the backlog", seconds=90
            )
        finally:
            workers.stop(pair)
        assert_each_transfer_once(runtime, ids, server)
        runtime.engine.dispose()
        dispose_all()
    finally:
        server.close()
