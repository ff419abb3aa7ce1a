"""A mailbox that cannot be reached never stops the worker's other work."""

from __future__ import annotations

import socket
from pathlib import Path

from sqlalchemy import select

from rightful.core.db import unit_of_work
from rightful.messaging.models import OutboxMessage
from rightful.messaging.service import queue_email
from rightful.worker.loop import run_once
from tests.support.app import make_settings, prepare
from tests.support.services import SmtpTestServer


def test_mail_still_goes_out_when_the_mailbox_is_down(
    tmp_path: Path, smtp_server: SmtpTestServer
) -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    settings = make_settings(
        tmp_path, smtp_url=smtp_server.url, mailbox_host="127.0.0.1", mailbox_port=closed_port
    )
    runtime = prepare(settings, people=5)
    with unit_of_work(runtime.sessions) as session:
        queue_email(
            session,
            settings,
            to="someone@example.com",
            template="case_reply",
            context={"reference": "PC-AAAAAA", "body": "An answer."},
        )
    run_once(runtime, maintenance=False)
    smtp_server.wait_for("someone@example.com", subject_contains="PC-AAAAAA")
    with runtime.sessions() as session:
        assert session.scalars(select(OutboxMessage.status)).one() == "sent"
    runtime.engine.dispose()
