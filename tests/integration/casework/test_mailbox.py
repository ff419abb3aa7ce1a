"""The privacy mailbox read from a real Dovecot over TLS: cases, acknowledgements over real
SMTP, threading, machines' mail ignored, attachments sealed, and a killed worker resuming."""

from __future__ import annotations

import imaplib
import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
from sqlalchemy import func, select

from rightful.casework import mailbox
from rightful.casework.models import Case, CaseMessage, MailboxClaim
from rightful.core.config import Settings
from rightful.core.runtime import Runtime, build_runtime
from rightful.messaging.service import deliver_pending
from rightful.migrations import upgrade
from rightful.rights.documents import Document
from tests.support.app import make_settings
from tests.support.imap import HOST, Dovecot, run_dovecot
from tests.support.services import SmtpTestServer


def _mail(sender: str, subject: str, body: str, message_id: str, **headers: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "privacy@lumen.example"
    msg["Subject"] = subject
    msg["Message-ID"] = message_id
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    msg.set_content(body)
    return msg


def _settings(tmp_path: Path, dovecot: Dovecot, smtp: SmtpTestServer) -> Settings:
    return make_settings(
        tmp_path,
        smtp_url=smtp.url,
        mailbox_host=HOST,
        mailbox_port=dovecot.port,
        mailbox_user=dovecot.user,
        mailbox_password=dovecot.password,
        mailbox_ca_file=dovecot.ca_file,
        mailbox_claim_seconds=0,
    )


@pytest.fixture
def runtime(tmp_path: Path, dovecot: Dovecot, smtp_server: SmtpTestServer) -> Iterator[Runtime]:
    """Rightful on SQLite reading the test mailbox."""
    rt = build_runtime(_settings(tmp_path, dovecot, smtp_server))
    upgrade(rt.engine)
    yield rt
    rt.engine.dispose()


def _cases(rt: Runtime) -> list[Case]:
    with rt.sessions() as session:
        return list(session.scalars(select(Case).order_by(Case.received_at)))


def test_requests_in_english_and_spanish_become_acknowledged_cases(
    runtime: Runtime, dovecot: Dovecot, smtp_server: SmtpTestServer
) -> None:
    dovecot.deliver(
        _mail(
            "Avery Quinn <avery@example.com>",
            "Please delete my data",
            "Hello, please delete all the personal data you hold about me.",
            "<en-1@example.com>",
        ).as_bytes()
    )
    dovecot.deliver(
        _mail(
            "Lucía Pérez <lucia@example.es>",
            "Solicitud",
            "Hola, quiero una copia de mis datos personales, por favor.",
            "<es-1@example.es>",
        ).as_bytes()
    )
    result = mailbox.poll(runtime.sessions, runtime.settings)
    assert result.outcomes == {"new_case": 2}
    cases = {c.suggested_type: c for c in _cases(runtime)}
    assert set(cases) == {"delete", "access"}
    assert cases["access"].language == "es"
    with runtime.sessions() as session:
        assert deliver_pending(session, runtime.settings) == 2
    ack = smtp_server.wait_for("avery@example.com", subject_contains=cases["delete"].reference)
    text = ack.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "/cases/confirm/" in text
    assert "avery@example.com" not in text.split("/cases/confirm/")[1]
    assert ack["In-Reply-To"] == "<en-1@example.com>"
    smtp_server.wait_for("lucia@example.es", subject_contains=cases["access"].reference)
    assert all(dovecot.seen_flags().values())  # marked read once the cases were committed


def test_a_reply_threads_onto_its_case_and_machines_start_nothing(
    runtime: Runtime, dovecot: Dovecot
) -> None:
    dovecot.deliver(
        _mail(
            "sam@example.com", "A question", "Which partners get my data?", "<q-1@example.com>"
        ).as_bytes()
    )
    mailbox.poll(runtime.sessions, runtime.settings)
    (case,) = _cases(runtime)
    reply = _mail(
        "sam@example.com",
        f"Re: We received your message [{case.reference}]",
        "Also, how long do you keep it?",
        "<q-2@example.com>",
        In_Reply_To="<ack@rightful.local>",
        References="<q-1@example.com> <ack@rightful.local>",
    )
    by_subject = _mail(
        "sam@example.com",
        f"More [{case.reference}]",
        "One more thing about my data.",
        "<q-3@example.com>",
    )
    stranger = _mail(
        "eve@example.com", f"[{case.reference}]", "Let me in this thread.", "<e-1@example.com>"
    )
    auto = _mail(
        "sam@example.com",
        "Out of office",
        "I am away.",
        "<auto-1@example.com>",
        Auto_Submitted="auto-replied",
    )
    bounce = (
        b"From: MAILER-DAEMON@mx.example.com\r\nSubject: Undelivered Mail\r\n"
        b"Message-ID: <dsn-1@mx.example.com>\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/report; report-type="delivery-status"; boundary="b"\r\n\r\n'
        b"--b\r\nContent-Type: text/plain\r\n\r\nDelivery failed.\r\n"
        b"--b\r\nContent-Type: message/delivery-status\r\n\r\n"
        b"Reporting-MTA: dns; mx.example.com\r\n--b--\r\n"
    )
    for msg in (reply, by_subject, stranger, auto):
        dovecot.deliver(msg.as_bytes())
    dovecot.deliver(bounce)
    dovecot.deliver(reply.as_bytes())  # the same message again: a duplicate
    result = mailbox.poll(runtime.sessions, runtime.settings)
    assert result.outcomes == {"threaded": 2, "new_case": 1, "automatic": 2, "duplicate": 1}
    with runtime.sessions() as session:
        count = session.scalar(select(func.count()).where(CaseMessage.case_id == case.id))
    assert count == 3
    assert len(_cases(runtime)) == 2  # the stranger's guess opened a case of their own


def test_an_attachment_is_stored_sealed(runtime: Runtime, dovecot: Dovecot) -> None:
    msg = _mail("kim@example.com", "My letter", "Please delete my account.", "<a-1@example.com>")
    msg.add_attachment(
        b"%PDF-1.4 signed letter", maintype="application", subtype="pdf", filename="letter.pdf"
    )
    msg.add_attachment(
        b"MZ\x90\x00", maintype="application", subtype="x-msdownload", filename="tool.exe"
    )
    dovecot.deliver(msg.as_bytes())
    mailbox.poll(runtime.sessions, runtime.settings)
    (case,) = _cases(runtime)
    with runtime.sessions() as session:
        (doc,) = session.scalars(select(Document).where(Document.case_id == case.id))
        note = session.scalars(select(CaseMessage.notes)).one()
    assert doc.content_type == "application/pdf"
    assert b"signed letter" not in (doc.sealed_content or "").encode()
    assert "letter.pdf" not in doc.sealed_name
    assert "application/x-msdownload" in note


KILLER = """
import os, signal, sys
from rightful.casework import mailbox
from rightful.core.runtime import build_runtime
from rightful.core.config import Settings
rt = build_runtime(Settings())
stop_at = int(sys.argv[1])
seen = []
def after_claim(uid):
    seen.append(uid)
    if len(seen) == stop_at:
        os.kill(os.getpid(), signal.SIGKILL)
mailbox.poll(rt.sessions, rt.settings, after_claim=after_claim)
"""


def test_a_worker_killed_mid_mailbox_resumes_without_loss_or_duplicates(
    runtime: Runtime, dovecot: Dovecot, tmp_path: Path
) -> None:
    for n in range(4):
        dovecot.deliver(
            _mail(
                f"p{n}@example.com", "Delete", "Delete my data please.", f"<k-{n}@example.com>"
            ).as_bytes()
        )
    s = runtime.settings
    env = {
        "RIGHTFUL_DATA_DIR": str(tmp_path),
        "RIGHTFUL_SECRET_KEY": s.secret_key,
        "RIGHTFUL_MAILBOX_HOST": HOST,
        "RIGHTFUL_MAILBOX_PORT": str(dovecot.port),
        "RIGHTFUL_MAILBOX_USER": dovecot.user,
        "RIGHTFUL_MAILBOX_PASSWORD": dovecot.password,
        "RIGHTFUL_MAILBOX_CA_FILE": str(dovecot.ca_file),
        "RIGHTFUL_MAILBOX_CLAIM_SECONDS": "0",
        "RIGHTFUL_DEMO_MODE": "true",
        "PATH": "/usr/bin:/bin",
    }
    killed = subprocess.run(  # dies with the third message claimed, not processed
        [sys.executable, "-c", KILLER, "3"], env=env, capture_output=True, check=False
    )
    assert killed.returncode == -9
    with runtime.sessions() as session:
        states = dict(session.execute(select(MailboxClaim.uid, MailboxClaim.status)).all())
    assert states == {1: "done", 2: "done", 3: "claimed"}
    assert len(_cases(runtime)) == 2
    mailbox.poll(runtime.sessions, runtime.settings)
    mailbox.poll(runtime.sessions, runtime.settings)  # a second pass takes nothing twice
    cases = _cases(runtime)
    assert len(cases) == 4
    with runtime.sessions() as session:
        assert set(session.scalars(select(MailboxClaim.status))) == {"done"}
    assert all(dovecot.seen_flags().values())


def test_an_exception_between_claim_and_commit_loses_nothing(
    runtime: Runtime, dovecot: Dovecot
) -> None:
    dovecot.deliver(
        _mail("ana@example.com", "Question", "What do you collect?", "<x-1@example.com>").as_bytes()
    )

    def explode(uid: int) -> None:
        raise RuntimeError("worker fell over")

    result = mailbox.poll(runtime.sessions, runtime.settings, after_claim=explode)
    assert result.failed == 1 and _cases(runtime) == []
    assert dovecot.seen_flags() == {1: False}  # not marked read: it was not taken
    mailbox.poll(runtime.sessions, runtime.settings)
    assert len(_cases(runtime)) == 1
    assert dovecot.seen_flags() == {1: True}


def test_rightful_mailbox_poll_reads_and_acknowledges(
    dovecot: Dovecot, smtp_server: SmtpTestServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from rightful.cli.main import app

    settings = _settings(tmp_path, dovecot, smtp_server)
    upgrade(build_runtime(settings).engine)
    for name, value in {
        "DATA_DIR": str(tmp_path),
        "SECRET_KEY": settings.secret_key,
        "SMTP_URL": smtp_server.url,
        "MAILBOX_HOST": HOST,
        "MAILBOX_PORT": str(dovecot.port),
        "MAILBOX_USER": dovecot.user,
        "MAILBOX_PASSWORD": dovecot.password,
        "MAILBOX_CA_FILE": str(dovecot.ca_file),
    }.items():
        monkeypatch.setenv(f"RIGHTFUL_{name}", value)
    monkeypatch.delenv("RIGHTFUL_DATABASE_URL", raising=False)
    dovecot.deliver(
        _mail("cli@example.com", "Queja", "Quiero presentar una queja.", "<c-1@x>").as_bytes()
    )
    result = CliRunner().invoke(app, ["mailbox", "poll"])
    assert result.exit_code == 0, result.output
    assert '"new_case": 1' in result.output and '"e-mails_sent": 1' in result.output
    smtp_server.wait_for("cli@example.com", subject_contains="[PC-")


class _Introspection(BaseHTTPRequestHandler):
    """An OAuth2 token introspection endpoint (RFC 7662) that knows one token."""

    token = "ya29.test-access-token"  # the test's own token

    def do_POST(self) -> None:  # the http.server hook name
        body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
        active = f"token={self.token}" in body
        answer = json.dumps(
            {"active": active, "username": "privacy"} if active else {"active": False}
        )
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(answer.encode())

    def log_message(self, *args: object) -> None:
        """Quiet."""


@pytest.fixture
def oauth_dovecot() -> Iterator[Dovecot]:
    """Dovecot whose oauth2 passdb asks a local introspection endpoint about tokens."""
    server = HTTPServer((HOST, 0), _Introspection)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield from run_dovecot(f"http://{HOST}:{server.server_port}/introspect")
    finally:
        server.shutdown()
        server.server_close()


def test_the_mailbox_signs_in_with_an_xoauth2_token(
    oauth_dovecot: Dovecot, tmp_path: Path, smtp_server: SmtpTestServer
) -> None:
    oauth_dovecot.deliver(
        _mail("tok@example.com", "Question", "Who do you share data with?", "<t-1@x>").as_bytes()
    )
    token_file = tmp_path / "token"
    token_file.write_text(_Introspection.token + "\n")
    settings = _settings(tmp_path, oauth_dovecot, smtp_server).model_copy(
        update={"mailbox_password": "", "mailbox_oauth2_token_file": token_file}
    )
    rt = build_runtime(settings)
    upgrade(rt.engine)
    assert mailbox.poll(rt.sessions, rt.settings).outcomes == {"new_case": 1}
    token_file.write_text("a-revoked-token")
    with pytest.raises(imaplib.IMAP4.error):
        mailbox.connect(rt.settings)
    rt.engine.dispose()
