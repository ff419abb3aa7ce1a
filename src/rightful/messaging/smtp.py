"""Sending a pass's messages over one SMTP session, with each message's own answer.

The mail lane sends a batch of messages; opening a connection (and STARTTLS and a login) for
each one cost more than the message itself. One session carries the whole pass, and each
message keeps its own outcome: a message the server refuses (its recipient, sender or data) is
failed alone and the session goes on; a session the server drops is opened again for the next
message; a server that cannot be reached fails the rest of the pass without trying each.
"""

from __future__ import annotations

import smtplib
from collections.abc import Sequence
from dataclasses import dataclass
from email.generator import BytesGenerator
from email.header import Header
from email.message import EmailMessage, Message
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.policy import Compat32
from email.utils import formataddr, make_msgid, parseaddr
from functools import cache
from io import BytesIO
from typing import Any
from urllib.parse import urlsplit

SMTP_TIMEOUT_SECONDS = 20


class _AsWritten(Compat32):
    """compat32 writing an ASCII header value as it is (already on one line, or folded by
    `_header`): no Header object built and folded again for every header of every message,
    and nothing folds a long link into encoded words. Up to SMTP's 998-character line."""

    def fold_binary(self, name: str, value: Any) -> bytes:
        """The header's bytes on the wire."""
        if isinstance(value, str) and value.isascii() and len(name) + len(value) < 996:
            return f"{name}: {value}{self.linesep}".encode("ascii")
        return super().fold_binary(name, value)


_POLICY = _AsWritten(max_line_length=998)
# The server answered about this message only; the session is still good for the next one.
_MESSAGE_REFUSED = (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused, smtplib.SMTPDataError)


@dataclass(frozen=True)
class Outgoing:
    """What one e-mail needs on the wire."""

    to: str
    subject: str
    text: str
    html: str
    headers: dict[str, str]


def mime(sender: str, letter: Outgoing) -> Message:
    """The message as it goes out: plain text and HTML alternatives, in UTF-8.

    Built with the classic `email.mime` classes, whose headers are kept as written: the modern
    API (`EmailMessage`) parses every header it is given and folds it again when sent (2.1 ms
    of CPU a message against 0.8 ms), and folded a List-Unsubscribe link longer than a line
    into RFC 2047 encoded words, which that header does not allow. Addresses outside ASCII
    (SMTPUTF8) need the modern API's policy and keep it."""
    if not (_envelope_sender(sender).isascii() and letter.to.isascii()):
        return _international(sender, letter)
    message = MIMEMultipart("alternative", policy=_POLICY)
    headers = {
        "From": _from_header(sender),
        "To": letter.to,
        "Subject": letter.subject,
        "Message-ID": make_msgid(domain="rightful.local"),
        **letter.headers,
    }
    for name, value in headers.items():
        message[name] = _header(value)
    # Base64 bodies: safe through any server (no 8BITMIME needed, no line too long).
    message.attach(MIMEText(letter.text, "plain", "utf-8", policy=_POLICY))
    message.attach(MIMEText(letter.html, "html", "utf-8", policy=_POLICY))
    return message


@cache
def _from_header(sender: str) -> str:
    return formataddr(parseaddr(sender), charset="utf-8")


@cache
def _envelope_sender(sender: str) -> str:
    return parseaddr(sender)[1]


def _send_one(smtp: smtplib.SMTP, sender: str, letter: Outgoing) -> dict[str, Any]:
    """Send one message; the recipients the server refused (if it took any)."""
    message = mime(sender, letter)
    if isinstance(message, EmailMessage):  # addresses outside ASCII: smtplib picks SMTPUTF8
        return dict(smtp.send_message(message))
    # The envelope is known: no copy of the message and no parse of its address headers.
    wire = BytesIO()
    BytesGenerator(wire, mangle_from_=False).flatten(message, linesep="\r\n")
    return dict(smtp.sendmail(_envelope_sender(sender), [letter.to], wire.getvalue()))


def _header(value: str) -> str:
    """A header value on one logical line: ASCII as it is (no line break can be slipped in),
    other text as RFC 2047 encoded words folded at 76 characters."""
    line = " ".join(value.splitlines())
    if line.isascii():
        return line
    return Header(line, "utf-8", maxlinelen=76).encode(linesep="\r\n")


def _international(sender: str, letter: Outgoing) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = letter.to
    message["Subject"] = letter.subject
    message["Message-ID"] = make_msgid(domain="rightful.local")
    for name, value in letter.headers.items():
        message[name] = value
    message.set_content(letter.text)
    message.add_alternative(letter.html, subtype="html")
    return message


def _connect(url: str) -> smtplib.SMTP:
    parts = urlsplit(url)
    port = parts.port or (465 if parts.scheme == "smtps" else 25)
    smtp_cls = smtplib.SMTP_SSL if parts.scheme == "smtps" else smtplib.SMTP
    smtp = smtp_cls(parts.hostname or "127.0.0.1", port, timeout=SMTP_TIMEOUT_SECONDS)
    try:
        if parts.scheme == "smtp+starttls":
            smtp.starttls()
        if parts.username:
            smtp.login(parts.username, parts.password or "")
    except BaseException:
        smtp.close()
        raise
    return smtp


def _quit(smtp: smtplib.SMTP) -> None:
    try:
        smtp.quit()
    except (OSError, smtplib.SMTPException):
        smtp.close()  # every message already has its answer


def send_all(url: str, sender: str, letters: Sequence[Outgoing]) -> list[str | None]:
    """Send `letters` in order over one session; for each, None when the server accepted it,
    else the error's type name (kept as the try's reason: it holds no address)."""
    outcomes: list[str | None] = []
    smtp: smtplib.SMTP | None = None
    try:
        for position, letter in enumerate(letters):
            if smtp is None or smtp.sock is None:  # none yet, or the server closed it
                try:
                    smtp = _connect(url)
                except (OSError, smtplib.SMTPException) as exc:
                    outcomes += [type(exc).__name__] * (len(letters) - position)
                    return outcomes
            try:
                refused = _send_one(smtp, sender, letter)
            except _MESSAGE_REFUSED as exc:
                outcomes.append(type(exc).__name__)
            except (OSError, smtplib.SMTPException) as exc:
                # Lost mid-message: whether the server kept it is unknown, so it is tried
                # again (as a message whose connection dropped always was).
                outcomes.append(type(exc).__name__)
                smtp.close()
            else:
                # One recipient a message: a refusal raises above; anything the server did
                # not take is never reported as sent.
                outcomes.append("SMTPRecipientsRefused" if refused else None)
    finally:
        if smtp is not None and smtp.sock is not None:
            _quit(smtp)
    return outcomes
