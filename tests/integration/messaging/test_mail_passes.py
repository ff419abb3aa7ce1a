"""The mail lane sends a pass's messages together (issue 12): one claim for the batch, one SMTP
session, one statement marking the sent and one the failed; a message the server refuses is
failed alone and never marked sent; what arrives is what was written."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import event, select

from rightful.connectors.sql import dispose_all
from rightful.core import clock
from rightful.core.db import unit_of_work
from rightful.core.runtime import Runtime, build_runtime
from rightful.messaging.models import OutboxMessage
from rightful.messaging.service import deliver_pending, queue_emails, queue_message
from rightful.migrations import upgrade
from tests.support.app import make_settings
from tests.support.services import HOST, SmtpTestServer, _free_port, _stop_controller

PEOPLE = [f"person.{n}@example.com" for n in range(30)]


def _store(tmp_path: Path, smtp_url: str, database_url: str | None = None) -> Runtime:
    overrides: dict[str, object] = {"smtp_url": smtp_url}
    if database_url:
        overrides["database_url"] = database_url
    runtime = build_runtime(make_settings(tmp_path, **overrides))
    upgrade(runtime.engine)
    return runtime


def _queue_codes(runtime: Runtime, people: list[str]) -> None:
    """Code e-mails queued as drafts, as the request path queues them."""
    letters = [
        {
            "to": to,
            "template": "code",
            "context": {"reference": f"R-{n:04d}", "code": f"{n:06d}", "ttl": 30},
            "language": "es" if n % 2 else "en",
        }
        for n, to in enumerate(people)
    ]
    with unit_of_work(runtime.sessions) as session:
        queue_emails(session, runtime.settings, letters)


def _rows(runtime: Runtime) -> list[OutboxMessage]:
    with runtime.sessions() as session:
        rows = list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
        session.expunge_all()
    return rows


def _counting(runtime: Runtime) -> list[str]:
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    event.listen(runtime.engine, "before_cursor_execute", count)
    return statements


@pytest.fixture
def closing() -> Iterator[list[Runtime]]:
    runtimes: list[Runtime] = []
    yield runtimes
    for runtime in runtimes:
        runtime.engine.dispose()
    dispose_all()


@pytest.mark.postgres
def test_a_pass_sends_its_messages_in_one_smtp_session_and_two_statements(
    tmp_path: Path, postgres_url: str, smtp_server: SmtpTestServer, closing: list[Runtime]
) -> None:
    runtime = _store(tmp_path, smtp_server.url, postgres_url)
    closing.append(runtime)
    _queue_codes(runtime, PEOPLE)
    statements = _counting(runtime)
    with runtime.sessions() as session:
        assert deliver_pending(session, runtime.settings, limit=50) == len(PEOPLE)
    # The claim (UPDATE ... RETURNING) and one UPDATE marking all 30 sent: 31 before.
    assert len(statements) == 2, statements
    assert smtp_server.sessions == 1  # 30 before: one connection a message
    assert sorted(to for m in smtp_server.messages for to in m.envelope_to) == sorted(PEOPLE)
    rows = _rows(runtime)
    assert {(r.status, r.attempts, r.claimed_by) for r in rows} == {("sent", 1, None)}
    # Each row keeps what was rendered and sent, in the reader's language.
    subjects = {m.message["Subject"] for m in smtp_server.messages}
    assert {r.subject for r in rows} == subjects
    assert any("código" in s for s in subjects) and any("code" in s for s in subjects)


@pytest.mark.postgres
def test_a_pass_takes_no_more_messages_than_its_batch(
    tmp_path: Path, postgres_url: str, smtp_server: SmtpTestServer, closing: list[Runtime]
) -> None:
    runtime = _store(tmp_path, smtp_server.url, postgres_url)
    closing.append(runtime)
    _queue_codes(runtime, PEOPLE[:12])
    with runtime.sessions() as session:
        # The claim's locked pick, rescanned for each row, took all 12 before.
        assert deliver_pending(session, runtime.settings, limit=5) == 5
    rows = _rows(runtime)
    assert [r.status for r in rows] == ["sent"] * 5 + ["queued"] * 7
    assert all(r.claimed_by is None and r.attempts == 0 for r in rows[5:])
    assert len(smtp_server.messages) == 5


class RefusingServer(SmtpTestServer):
    """The test SMTP server, refusing one recipient at RCPT TO."""

    def __init__(self, refused: str) -> None:
        super().__init__()
        self.refused = refused

    async def handle_RCPT(
        self, server: object, session: object, envelope: Any, address: str, options: list[str]
    ) -> str:
        """aiosmtpd hook: 550 for the refused address, else take it."""
        if address == self.refused:
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"


@contextmanager
def refusing(address: str) -> Iterator[SmtpTestServer]:
    server = RefusingServer(address)
    server.port = _free_port()
    controller = Controller(
        server, hostname=HOST, port=server.port, loop=asyncio.new_event_loop(), ready_timeout=10
    )
    controller.start()
    try:
        yield server
    finally:
        _stop_controller(controller)


def test_a_refused_recipient_fails_alone_and_the_others_go_in_the_same_session(
    tmp_path: Path, closing: list[Runtime]
) -> None:
    with refusing(PEOPLE[2]) as server:
        runtime = _store(tmp_path, server.url)
        closing.append(runtime)
        _queue_codes(runtime, PEOPLE[:5])
        with runtime.sessions() as session:
            assert deliver_pending(session, runtime.settings) == 4
    assert sorted(to for m in server.messages for to in m.envelope_to) == sorted(
        PEOPLE[:2] + PEOPLE[3:5]
    )
    assert server.sessions == 1  # the refusal did not cost the others their session
    rows = _rows(runtime)
    assert [r.status for r in rows] == ["sent", "sent", "queued", "sent", "sent"]
    refused = rows[2]
    # Never marked sent: it waits its turn in the retry schedule, rendered as it was tried.
    assert (refused.attempts, refused.last_error) == (1, "SMTPRecipientsRefused")
    assert refused.next_attempt_at is not None and refused.claimed_by is None
    assert refused.subject == rows[0].subject.replace("R-0000", "R-0002")


def test_a_long_list_unsubscribe_link_arrives_as_written(
    tmp_path: Path, smtp_server: SmtpTestServer, closing: list[Runtime]
) -> None:
    runtime = _store(tmp_path, smtp_server.url)
    closing.append(runtime)
    link = "<https://privacy.lumen.example/unsubscribe/" + "k" * 140 + ">"
    with unit_of_work(runtime.sessions) as session:
        queue_message(
            session,
            runtime.settings,
            to=PEOPLE[0],
            subject="Novedades de Lumen: ¿qué hay de nuevo?",
            text="Hola",
            html="<p>Hola</p>",
            template="newsletter",
            headers={
                "List-Unsubscribe": link,
                "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            },
        )
    with runtime.sessions() as session:
        assert deliver_pending(session, runtime.settings) == 1
    (mail,) = smtp_server.messages
    # RFC 2369 wants the link itself: it was folded into encoded words (=?utf-8?q?...) before.
    assert f"List-Unsubscribe: {link}\r\n".encode() in mail.raw
    assert mail.message["Subject"] == "Novedades de Lumen: ¿qué hay de nuevo?"
    assert mail.message.get_body(("plain",)).get_content() == "Hola"  # type: ignore[union-attr]


class ClosingServer(SmtpTestServer):
    """The test SMTP server, answering the second message with 421 (closing the session)."""

    def __init__(self) -> None:
        super().__init__()
        self.data_commands = 0

    async def handle_DATA(self, server: object, session: object, envelope: Any) -> str:
        """aiosmtpd hook: 421 once, for the second message; every other one is kept."""
        self.data_commands += 1
        if self.data_commands == 2:
            return "421 4.3.2 Shutting down, try again later"
        return await super().handle_DATA(server, session, envelope)


def test_a_session_closed_mid_pass_is_opened_again_and_every_message_arrives_once(
    tmp_path: Path, closing: list[Runtime]
) -> None:
    server = ClosingServer()
    server.port = _free_port()
    controller = Controller(
        server, hostname=HOST, port=server.port, loop=asyncio.new_event_loop(), ready_timeout=10
    )
    controller.start()
    try:
        runtime = _store(tmp_path, server.url)
        closing.append(runtime)
        _queue_codes(runtime, PEOPLE[:5])
        with runtime.sessions() as session:
            assert deliver_pending(session, runtime.settings) == 4
        assert server.sessions == 2  # the rest of the pass went on in a new session
        second = _rows(runtime)[1]
        assert (second.status, second.attempts, second.last_error) == (
            "queued",
            1,
            "SMTPDataError",
        )
        clock.freeze(clock.utcnow() + timedelta(minutes=2))  # its next try is due
        try:
            with runtime.sessions() as session:
                assert deliver_pending(session, runtime.settings) == 1
        finally:
            clock.freeze(None)
    finally:
        _stop_controller(controller)
    assert sorted(to for m in server.messages for to in m.envelope_to) == sorted(PEOPLE[:5])
    assert {(r.status, r.claimed_by) for r in _rows(runtime)} == {("sent", None)}
