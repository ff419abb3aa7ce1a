"""A portable copy goes to the HTTPS endpoint a person named, only once they confirm it: over
verified TLS, signed, retried on 5xx, recorded, and told to the person (issue 11 item 5)."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from rightful.connectors.sql import dispose_all
from rightful.core.clock import utcnow
from rightful.core.runtime import Runtime
from rightful.rights.transfer_models import PortabilityTransfer
from rightful.rights.transfer_send import transfer_secret
from rightful.rights.transfer_worker import MAX_ATTEMPTS, _claim, _start
from tests.integration.portability.support import (
    actions,
    approve_and_run,
    confirm,
    deliver,
    letters,
    submit,
    transfer,
)
from tests.support.app import make_settings, prepare
from tests.support.https_receiver import HttpsReceiver


@pytest.fixture
def receiver(tmp_path: Path) -> Iterator[HttpsReceiver]:
    with HttpsReceiver(tmp_path) as server:
        yield server


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def runtime(
    request: pytest.FixtureRequest, tmp_path: Path, receiver: HttpsReceiver
) -> Iterator[Runtime]:
    """Rightful on SQLite or PostgreSQL, trusting the test CA and a loopback endpoint."""
    store = {}
    if request.param == "postgres":
        store["database_url"] = request.getfixturevalue("postgres_url")
    built = prepare(
        make_settings(
            tmp_path,
            transfer_ca_file=receiver.ca_file,
            transfer_allow_private_addresses=True,
            **store,
        )
    )
    yield built
    built.engine.dispose()
    dispose_all()


def _due_now(runtime: Runtime, request_id: str) -> None:
    # The backoff (or a dead worker's lease) has run out.
    past = utcnow() - timedelta(seconds=1)
    with runtime.sessions() as session:
        session.execute(
            update(PortabilityTransfer)
            .where(PortabilityTransfer.request_id == request_id)
            .values(next_attempt_at=past, claimed_until=past)
        )
        session.commit()


def test_a_confirmed_copy_is_posted_signed_and_the_person_is_told_it_was_accepted(
    runtime: Runtime, receiver: HttpsReceiver
) -> None:
    request_id = submit(runtime, receiver.url())
    deliver(runtime)  # asks the person to confirm
    approve_and_run(runtime, request_id)
    deliver(runtime)
    assert receiver.received == []  # nothing leaves before the person confirms
    assert transfer(runtime, request_id).status == "awaiting_confirmation"

    assert confirm(runtime, request_id) == "confirmed"
    deliver(runtime)

    (post,) = receiver.received
    stamp, body = post.headers["X-Rightful-Timestamp"], post.body
    secret = transfer_secret(runtime.settings, receiver.url())
    expected = hmac.new(secret.encode(), stamp.encode() + b"." + body, hashlib.sha256)
    assert post.headers["X-Rightful-Signature"] == "sha256=" + expected.hexdigest()
    assert post.headers["Host"] == f"localhost:{receiver.port}"
    payload = json.loads(body)
    stored = transfer(runtime, request_id)
    assert post.headers["Idempotency-Key"] == payload["id"] == stored.uid
    assert payload["recipient"] == {"name": "Northwind Health"}
    accounts = payload["package"]["data"]
    assert "avery.quinn@example.com" in json.dumps(accounts)
    assert (stored.status, stored.http_status, stored.attempts) == ("accepted", 202, 1)
    (told,) = letters(runtime, request_id, "transfer_outcome")
    assert "Their server accepted it (HTTP status 202)" in told
    assert actions(runtime, request_id) == [
        "transfer.requested",
        "transfer.confirmation_asked",
        "transfer.confirmed",
        "transfer.attempt",
        "transfer.accepted",
        "transfer.person_told",
    ]


def test_a_5xx_is_retried_with_backoff_and_the_retry_carries_the_same_idempotency_key(
    runtime: Runtime, receiver: HttpsReceiver
) -> None:
    receiver.answer(503, 200)
    request_id = submit(runtime, receiver.url())
    deliver(runtime)
    approve_and_run(runtime, request_id)
    confirm(runtime, request_id)
    deliver(runtime)
    waiting = transfer(runtime, request_id)
    assert (waiting.status, waiting.http_status, waiting.last_error) == (
        "confirmed",
        503,
        "HTTP 503",
    )
    assert waiting.next_attempt_at > utcnow()  # backing off
    deliver(runtime)
    assert len(receiver.received) == 1  # not before its time
    assert letters(runtime, request_id, "transfer_outcome") == []

    _due_now(runtime, request_id)
    deliver(runtime)
    first, second = receiver.received
    assert first.headers["Idempotency-Key"] == second.headers["Idempotency-Key"]
    done = transfer(runtime, request_id)
    assert (done.status, done.http_status, done.attempts) == ("accepted", 200, 2)


def test_a_worker_that_dies_after_claiming_leaves_the_attempt_recorded_and_one_retry_sends_it(
    runtime: Runtime, receiver: HttpsReceiver
) -> None:
    request_id = submit(runtime, receiver.url())
    deliver(runtime)
    approve_and_run(runtime, request_id)
    confirm(runtime, request_id)
    with runtime.sessions() as session:  # a worker claims it, then dies before sending
        won = _claim(session, runtime.settings)
        claimed = session.get(PortabilityTransfer, transfer(runtime, request_id).id)
        assert claimed is not None and won.ids == [claimed.id] and _start(session, claimed, won)
    deliver(runtime)
    assert receiver.received == []  # its lease keeps others off
    _due_now(runtime, request_id)  # the lease ran out
    deliver(runtime)
    deliver(runtime)
    assert len(receiver.received) == 1
    done = transfer(runtime, request_id)
    assert (done.status, done.attempts) == ("accepted", 2)
    assert actions(runtime, request_id).count("transfer.attempt") == 2


def test_a_4xx_fails_at_once_and_the_person_is_told_why_in_plain_words(
    runtime: Runtime, receiver: HttpsReceiver
) -> None:
    receiver.answer(403)
    request_id = submit(runtime, receiver.url())
    deliver(runtime)
    approve_and_run(runtime, request_id)
    confirm(runtime, request_id)
    deliver(runtime)
    failed = transfer(runtime, request_id)
    assert (failed.status, failed.http_status, failed.attempts) == ("failed", 403, 1)
    (told,) = letters(runtime, request_id, "transfer_outcome")
    assert "its server refused it (HTTP status 403)" in told
    assert "Nothing was sent to them" in told


def test_a_person_who_says_no_gets_nothing_sent(runtime: Runtime, receiver: HttpsReceiver) -> None:
    request_id = submit(runtime, receiver.url())
    deliver(runtime)
    assert confirm(runtime, request_id, send=False) == "cancelled"
    approve_and_run(runtime, request_id)
    deliver(runtime)
    assert receiver.received == []
    assert transfer(runtime, request_id).status == "cancelled"


def test_an_endpoint_whose_certificate_is_not_trusted_gets_nothing(
    tmp_path: Path, receiver: HttpsReceiver
) -> None:
    # Verification is never switched off: without the test CA the certificate is refused.
    runtime = prepare(make_settings(tmp_path, transfer_allow_private_addresses=True))
    try:
        request_id = submit(runtime, receiver.url())
        deliver(runtime)
        approve_and_run(runtime, request_id)
        confirm(runtime, request_id)
        for _ in range(MAX_ATTEMPTS):
            _due_now(runtime, request_id)
            deliver(runtime)
        assert receiver.received == []
        failed = transfer(runtime, request_id)
        assert (failed.status, failed.last_error) == ("failed", "certificate not trusted")
        (told,) = letters(runtime, request_id, "transfer_outcome")
        assert "security certificate could not be verified" in told
    finally:
        runtime.engine.dispose()
        dispose_all()


def test_a_loopback_endpoint_is_refused_unless_the_operator_allows_it(
    tmp_path: Path, receiver: HttpsReceiver
) -> None:
    from rightful.core.errors import InvalidInputError

    runtime = prepare(make_settings(tmp_path, transfer_ca_file=receiver.ca_file))
    try:
        with pytest.raises(InvalidInputError) as refused:
            submit(runtime, receiver.url())
        assert refused.value.errors[0]["field"] == "transfer_to"
        assert "not on the public internet" in refused.value.errors[0]["message"]
    finally:
        runtime.engine.dispose()
        dispose_all()
