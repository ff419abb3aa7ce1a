"""Mail that survives an outage (issue 12): while the mail server refuses, messages wait their
turn in the retry schedule over hours; once it accepts, each arrives exactly once and none is
failed. A message that used the schedule up is failed, and staff send it again (API, CLI,
console) — once: a delivered message is never sent twice."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from rightful.cli.main import app as cli
from rightful.connectors.sql import dispose_all
from rightful.core import clock
from rightful.core.db import unit_of_work
from rightful.core.runtime import Runtime
from rightful.messaging.models import OutboxMessage
from rightful.messaging.service import deliver_pending, queue_message
from rightful.security.permissions import system_actor
from rightful.security.service import create_api_token, create_staff
from rightful.web.app import create_app
from tests.support.app import make_settings, prepare
from tests.support.services import HOST, SmtpTestServer, _free_port, _stop_controller

PEOPLE = [f"person.{n}@example.com" for n in range(6)]


@contextmanager
def smtp_on(port: int) -> Iterator[SmtpTestServer]:
    """The real test SMTP server (aiosmtpd), started on a port chosen before the outage."""
    server = SmtpTestServer()
    server.port = port
    controller = Controller(
        server,
        hostname=HOST,
        port=port,
        loop=asyncio.new_event_loop(),
        server_hostname="localhost",
        ready_timeout=10.0,
    )
    controller.start()
    try:
        yield server
    finally:
        _stop_controller(controller)


def queue_mail(runtime: Runtime) -> None:
    with unit_of_work(runtime.sessions) as session:
        for to in PEOPLE:
            queue_message(
                session,
                runtime.settings,
                to=to,
                subject="Your request was received",
                text="We have your request.",
                html="<p>We have your request.</p>",
                template="request_received",
            )


def statuses(runtime: Runtime) -> list[tuple[str, int]]:
    with runtime.sessions() as session:
        rows = session.execute(
            select(OutboxMessage.status, OutboxMessage.attempts).order_by(OutboxMessage.id)
        )
        return [(status, attempts) for status, attempts in rows]


def worker_passes(runtime: Runtime, minutes: int) -> None:
    """The mail worker's passes, one a minute of the driven clock, for `minutes` minutes."""
    for _ in range(minutes):
        with runtime.sessions() as session:
            deliver_pending(session, runtime.settings)
        clock.freeze(clock.utcnow() + timedelta(minutes=1))


def received(server: SmtpTestServer) -> list[str]:
    return sorted(to for mail in server.messages for to in mail.envelope_to)


@pytest.fixture
def frozen() -> Iterator[None]:
    clock.freeze(clock.utcnow())
    yield
    clock.freeze(None)


def test_messages_wait_out_three_hours_of_refusals_and_each_arrives_once(
    tmp_path: Path, frozen: None
) -> None:
    port = _free_port()  # nothing listens: every connection is refused
    runtime = prepare(make_settings(tmp_path, smtp_url=f"smtp://{HOST}:{port}"))
    queue_mail(runtime)
    worker_passes(runtime, 180)
    # Tried at 0, 1, 6, 21, 51 and 111 minutes (the default schedule), still waiting.
    assert statuses(runtime) == [("queued", 6)] * len(PEOPLE)
    with smtp_on(port) as server:
        worker_passes(runtime, 60)  # the next try, 2 hours after the sixth, is at 231 minutes
        assert received(server) == sorted(PEOPLE)  # each once
    assert statuses(runtime) == [("sent", 7)] * len(PEOPLE)
    runtime.engine.dispose()
    dispose_all()


def test_a_message_failed_after_its_schedule_is_sent_again_by_staff_once(
    tmp_path: Path, frozen: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = _free_port()
    settings = make_settings(
        tmp_path, smtp_url=f"smtp://{HOST}:{port}", mail_retry_schedule=[60, 120]
    )
    runtime = prepare(settings)
    queue_mail(runtime)
    worker_passes(runtime, 10)
    assert statuses(runtime) == [("failed", 3)] * len(PEOPLE)  # tried at 0, 1 and 3 minutes
    with unit_of_work(runtime.sessions) as session:
        staff = create_staff(
            session,
            email="analyst@lumen.example",
            name="Ana Analyst",
            password=secrets.token_urlsafe(18),
            role="analyst",
            actor=system_actor("test"),
        )
        token = create_api_token(session, staff=staff, name="t", actor=system_actor("test"))
        first = session.scalars(select(OutboxMessage.id).order_by(OutboxMessage.id)).first()
    auth = {"Authorization": f"Bearer {token}"}
    with smtp_on(port) as server:
        with TestClient(create_app(runtime, start_worker=False)) as client:
            # No worker runs in this app: the dispatcher sends the resent message at once.
            answer = client.post(f"/api/v1/outbox/{first}/resend", headers=auth)
            assert answer.status_code == 202, answer.text
            assert received(server) == [PEOPLE[0]]
            again = client.post(f"/api/v1/outbox/{first}/resend", headers=auth)
            assert again.status_code == 409  # delivered: never sent twice
        for key, value in {
            "RIGHTFUL_DATA_DIR": str(tmp_path),
            "RIGHTFUL_SECRET_KEY": settings.secret_key,
            "RIGHTFUL_SMTP_URL": settings.smtp_url,
        }.items():
            monkeypatch.setenv(key, value)
        monkeypatch.delenv("RIGHTFUL_DATABASE_URL", raising=False)
        result = CliRunner().invoke(cli, ["mail", "resend", "--failed"])
        assert result.exit_code == 0, result.output
        assert '"queued": 5' in result.output
        worker_passes(runtime, 1)
        assert received(server) == sorted(PEOPLE)  # the other five, and the first still once
    assert statuses(runtime)[0] == ("sent", 1)
    assert {s for s, _ in statuses(runtime)} == {"sent"}
    runtime.engine.dispose()
    dispose_all()


def test_the_console_offers_to_send_a_failed_message_again(tmp_path: Path, frozen: None) -> None:
    from tests.support.app import STAFF_EMAIL, STAFF_PASSWORD

    port = _free_port()
    runtime = prepare(
        make_settings(tmp_path, smtp_url=f"smtp://{HOST}:{port}", mail_retry_schedule=[60])
    )
    queue_mail(runtime)
    worker_passes(runtime, 3)
    with unit_of_work(runtime.sessions) as session:
        create_staff(
            session,
            email=STAFF_EMAIL,
            name="Olive Officer",
            password=STAFF_PASSWORD,
            actor=system_actor("test"),
        )
        first = session.scalars(select(OutboxMessage.id).order_by(OutboxMessage.id)).first()
    with TestClient(create_app(runtime, start_worker=False)) as client, smtp_on(port) as server:
        login = client.get("/admin/login").text
        csrf = login.split('name="csrf" value="')[1].split('"')[0]
        client.post(
            "/admin/login",
            data={"email": STAFF_EMAIL, "password": STAFF_PASSWORD, "csrf": csrf},
        )
        page = client.get(f"/admin/outbox/{first}").text
        assert "Send again" in page and "ConnectionRefusedError" in page
        csrf = page.split('name="csrf" value="')[1].split('"')[0]
        done = client.post(f"/admin/outbox/{first}/resend", data={"csrf": csrf})
        assert done.status_code == 200 and "Queued again" in done.text
        assert received(server) == [PEOPLE[0]]
        assert "Send again" not in done.text  # delivered now
    runtime.engine.dispose()
    dispose_all()
