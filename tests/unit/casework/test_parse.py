"""Reading an e-mail: machines' mail recognised, threading headers and the reference found."""

from __future__ import annotations

import pytest

from rightful.casework.mailbox import xoauth2
from rightful.casework.parse import parse

BASE = b"From: Sam <Sam@Example.com>\r\nSubject: Hi [PC-7KQ3MX]\r\nMessage-ID: <m1@x>\r\n"


@pytest.mark.parametrize(
    ("header", "why"),
    [
        (b"Auto-Submitted: auto-replied\r\n", "auto_submitted"),
        (b"Precedence: bulk\r\n", "precedence"),
        (b"Precedence: auto_reply\r\n", "precedence"),
        (b"X-Autoreply: yes\r\n", "autoreply_header"),
        (b"X-Autorespond: yes\r\n", "autoreply_header"),
        (b"Return-Path: <>\r\n", "null_return_path"),
    ],
)
def test_machine_written_mail_is_recognised(header: bytes, why: str) -> None:
    assert parse(BASE + header + b"\r\nAway.\r\n").automatic == why


def test_a_person_is_not_a_machine() -> None:
    mail = parse(BASE + b"Auto-Submitted: no\r\n\r\nPlease delete my data.\r\n")
    assert mail.automatic is None
    assert mail.sender == "sam@example.com" and mail.sender_name == "Sam"
    assert mail.case_reference == "PC-7KQ3MX"


def test_mailer_daemon_is_a_machine() -> None:
    raw = b"From: MAILER-DAEMON@mx.example\r\nSubject: x\r\n\r\nfailed\r\n"
    assert parse(raw).automatic == "mailer_daemon"


def test_html_only_mail_is_read_as_text() -> None:
    raw = BASE + b"Content-Type: text/html\r\n\r\n<p>Borrar <b>mis</b> datos</p><script>x</script>"
    assert parse(raw).text == "Borrar mis datos"


def test_in_reply_to_and_references_are_kept_in_order() -> None:
    raw = BASE + b"In-Reply-To: <b@x>\r\nReferences: <a@x> <b@x>\r\n\r\nok\r\n"
    assert parse(raw).replies_to == ("<b@x>", "<a@x>")


def test_the_xoauth2_string_is_the_one_gmail_and_microsoft_document() -> None:
    assert xoauth2("privacy@lumen.example", "tok") == (
        b"user=privacy@lumen.example\x01auth=Bearer tok\x01\x01"
    )
