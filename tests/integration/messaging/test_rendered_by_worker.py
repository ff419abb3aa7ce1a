"""E-mail is rendered by the mail lane, never inside the web request: the request path seals a
draft (template, language, values) in its one outbox row, and what arrives over SMTP is the
same as a message rendered where it was queued."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from rightful.connectors.sql import dispose_all
from rightful.core.db import unit_of_work
from rightful.core.runtime import Runtime
from rightful.messaging.models import OutboxMessage
from rightful.messaging.service import deliver_pending, open_letter, queue_email, vault
from rightful.security.permissions import system_actor
from rightful.security.service import create_api_token, create_staff
from rightful.web.app import create_app
from tests.support.app import AVERY, code_from, make_settings, prepare
from tests.support.services import SmtpTestServer

ACCESS = {
    "request_type": "access",
    "declaration_signature": "Avery Quinn",
    "channel": "api",
    "date_range": "all",
    **AVERY,
}


@pytest.fixture
def mailing(tmp_path: Path, smtp_server: SmtpTestServer) -> Iterator[Runtime]:
    runtime = prepare(make_settings(tmp_path, smtp_url=smtp_server.url))
    yield runtime
    runtime.engine.dispose()
    dispose_all()


def _row(runtime: Runtime, request_id: str) -> tuple[OutboxMessage, dict[str, Any]]:
    with runtime.sessions() as session:
        msg = session.scalars(
            select(OutboxMessage).where(OutboxMessage.request_id == request_id)
        ).one()
        session.expunge(msg)
    return msg, vault(runtime.settings).decrypt_json(msg.sealed)


def test_submit_through_the_api_queues_a_draft_and_the_mail_lane_renders_it(
    mailing: Runtime, smtp_server: SmtpTestServer
) -> None:
    with unit_of_work(mailing.sessions) as session:
        staff = create_staff(
            session,
            email="officer@lumen.example",
            name="Olive Officer",
            password="correct horse battery staple",
            actor=system_actor("test"),
        )
        token = create_api_token(session, staff=staff, name="tests", actor=system_actor("test"))
    # A worker exists but is not started (not used as a context manager): submit only wakes
    # its mail lane, as when the worker runs beside the server.
    client = TestClient(create_app(mailing, start_worker=True))
    r = client.post(
        "/api/v1/rights-requests", headers={"Authorization": f"Bearer {token}"}, json=ACCESS
    )
    assert r.status_code == 201, r.text
    request_id = r.json()["id"]

    queued, body = _row(mailing, request_id)
    # Nothing rendered in the request: no subject, no text, no HTML; the values are sealed.
    assert queued.subject == "" and queued.status == "queued"
    assert "text" not in body and "html" not in body
    assert body["draft"]["reference"] and body["to"] == AVERY["email"]
    assert AVERY["email"] not in queued.sealed  # the draft is encrypted at rest

    with mailing.sessions() as session:
        assert deliver_pending(session, mailing.settings) == 1
    received = smtp_server.wait_for(AVERY["email"], subject_contains="received")
    sent, body = _row(mailing, request_id)
    # The row now holds what was sent, as staff read it and as a resend would send it again.
    assert sent.status == "sent" and sent.subject == received["subject"]
    assert "draft" not in body and code_from(body["text"]) == code_from(received)


def test_a_message_rendered_by_the_worker_is_the_same_as_one_rendered_when_queued(
    mailing: Runtime, smtp_server: SmtpTestServer
) -> None:
    def row(reference: str, due: datetime) -> dict[str, Any]:
        return {
            "reference": reference,
            "type": "Access",
            "clock": "Answer",
            "due": due,
            "when": "in 4 days",
            "url": f"http://testserver/admin/requests/{reference}",
        }

    context = {  # dates, nested lists and dicts: what JSON alone would not bring back
        "days": 7,
        "day": date(2026, 12, 5),
        "overdue": [row("R-1 <&>", datetime(2026, 12, 1, 9, 30, tzinfo=UTC))],
        "soon": [row("R-2", datetime(2026, 12, 9, 17, 0, tzinfo=UTC))],
    }
    with unit_of_work(mailing.sessions) as session:
        for to, drafted in (("drafted@example.com", True), ("rendered@example.com", False)):
            msg = queue_email(
                session,
                mailing.settings,
                to=to,
                template="due_digest",
                context=context,
                sent=drafted,  # False: rendered here, as every message was before
            )
            assert (msg.subject == "") is drafted
    with mailing.sessions() as session:
        assert deliver_pending(session, mailing.settings) == 2
    drafted_mail = smtp_server.wait_for("drafted@example.com")
    rendered_mail = smtp_server.wait_for("rendered@example.com")
    assert drafted_mail["subject"] == rendered_mail["subject"]
    for part in ("plain", "html"):
        a, b = drafted_mail.get_body((part,)), rendered_mail.get_body((part,))
        assert a is not None and b is not None
        assert a.get_payload(decode=True) == b.get_payload(decode=True)
        assert a.get_content_type() == b.get_content_type()
    assert "R-2" in drafted_mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]


def test_a_draft_is_rendered_in_the_language_it_was_queued_in(
    mailing: Runtime, smtp_server: SmtpTestServer
) -> None:
    with unit_of_work(mailing.sessions) as session:
        for to, drafted in (("drafted@example.com", True), ("rendered@example.com", False)):
            queue_email(
                session,
                mailing.settings,
                to=to,
                template="preferences_link",
                context={"url": "http://testserver/preferences/open/abc", "hours": 24},
                language="es",
                sent=drafted,
            )
    with mailing.sessions() as session:
        assert deliver_pending(session, mailing.settings) == 2
    drafted_mail = smtp_server.wait_for("drafted@example.com")
    rendered_mail = smtp_server.wait_for("rendered@example.com")
    english = "Your link to manage your privacy choices"
    assert drafted_mail["subject"] == rendered_mail["subject"] != english
    for part in ("plain", "html"):
        a, b = drafted_mail.get_body((part,)), rendered_mail.get_body((part,))
        assert a is not None and b is not None
        assert a.get_payload(decode=True) == b.get_payload(decode=True)


def test_a_draft_the_mail_server_refused_is_kept_rendered_and_sent_on_the_next_try(
    tmp_path: Path, smtp_server: SmtpTestServer
) -> None:
    closed = prepare(make_settings(tmp_path, smtp_url="smtp://127.0.0.1:9"))  # nobody listens
    with unit_of_work(closed.sessions) as session:
        queue_email(
            session,
            closed.settings,
            to=AVERY["email"],
            template="preferences_link",
            context={"url": "http://testserver/preferences/open/abc", "hours": 24},
        )
    with closed.sessions() as session:
        assert deliver_pending(session, closed.settings) == 0
        msg = session.scalars(select(OutboxMessage)).one()
        preview = open_letter(closed.settings, msg)
        assert msg.status == "queued" and msg.attempts == 1 and msg.subject == preview.subject
        assert "draft" not in vault(closed.settings).decrypt_json(msg.sealed)
        msg.next_attempt_at = None  # due now, as a resend makes it
        session.commit()
    opened = closed.settings.model_copy(update={"smtp_url": smtp_server.url})
    with closed.sessions() as session:
        assert deliver_pending(session, opened) == 1
    received = smtp_server.wait_for(AVERY["email"])
    assert received["subject"] == preview.subject
    text = received.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert text.replace("\r\n", "\n").strip() == preview.text.strip()
    closed.engine.dispose()
    dispose_all()
