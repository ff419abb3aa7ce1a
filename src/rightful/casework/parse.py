"""Reading one e-mail: who sent it, its text, its attachments, and whether a machine wrote it
(an auto-reply or a bounce, which never start a case)."""

from __future__ import annotations

import email
import email.policy
import html
import re
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import getaddresses, parseaddr

from rightful.core.errors import InvalidInputError

REFERENCE = re.compile(r"\[(PC-[A-Z0-9]{6})\]")
_AUTOMATIC_PRECEDENCE = {"bulk", "junk", "list", "auto_reply"}
_DAEMONS = ("mailer-daemon", "postmaster")
_MESSAGE_ID = re.compile(r"<[^<>\s]+>")


@dataclass(frozen=True)
class Attachment:
    """A file that came with a message."""

    filename: str
    content_type: str
    content: bytes


@dataclass(frozen=True)
class Mail:
    """One parsed e-mail."""

    sender: str
    sender_name: str
    subject: str
    text: str
    message_id: str
    # What it answers: In-Reply-To and References, as Message-IDs.
    replies_to: tuple[str, ...]
    automatic: str | None  # why a machine wrote it, or None for a person
    attachments: tuple[Attachment, ...] = field(default_factory=tuple)
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def case_reference(self) -> str | None:
        """A case reference in the subject, e.g. "[PC-7KQ3MX]"."""
        found = REFERENCE.search(self.subject.upper())
        return found.group(1) if found else None


def _automatic(msg: EmailMessage, sender: str) -> str | None:
    """Why a machine sent this (RFC 3834 and common practice), or None."""
    auto = str(msg.get("Auto-Submitted", "")).strip().lower()
    if auto and auto != "no":
        return "auto_submitted"
    if str(msg.get("Precedence", "")).strip().lower() in _AUTOMATIC_PRECEDENCE:
        return "precedence"
    if msg.get("X-Autoreply") is not None or msg.get("X-Autorespond") is not None:
        return "autoreply_header"
    if msg.get_content_type() == "multipart/report":  # RFC 3464 delivery status
        return "delivery_report"
    if sender.split("@")[0].lower() in _DAEMONS:
        return "mailer_daemon"
    return_path = msg.get("Return-Path")
    if return_path is not None and str(return_path).strip() == "<>":
        return "null_return_path"
    return None


def _html_to_text(markup: str) -> str:
    without = re.sub(r"(?is)<(script|style)[^>]*>.*?</\1>", " ", markup)
    broken = re.sub(r"(?i)<br\s*/?>|</p>|</div>|</li>", "\n", without)
    text = html.unescape(re.sub(r"<[^>]+>", " ", broken))
    return "\n".join(" ".join(line.split()) for line in text.splitlines()).strip()


def _text(msg: EmailMessage) -> str:
    body = msg.get_body(preferencelist=("plain", "html"))
    if body is None:
        return ""
    try:
        content = str(body.get_content())
    except (LookupError, ValueError):  # an unknown charset: read what we can
        payload = body.get_payload(decode=True)
        content = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""
    return _html_to_text(content) if body.get_content_type() == "text/html" else content.strip()


def _attachments(msg: EmailMessage) -> tuple[Attachment, ...]:
    found = []
    for part in msg.iter_attachments():
        payload = part.get_payload(decode=True)
        if not isinstance(payload, bytes):
            payload = part.as_bytes() if part.get_content_type() == "message/rfc822" else b""
        found.append(
            Attachment(part.get_filename() or "attachment", part.get_content_type(), payload)
        )
    return tuple(found)


def _ids(value: object) -> tuple[str, ...]:
    return tuple(_MESSAGE_ID.findall(str(value or "")))


def parse(raw: bytes) -> Mail:
    """Parse raw RFC 5322 bytes (InvalidInputError when there is no sender to answer)."""
    msg = email.message_from_bytes(raw, _class=EmailMessage, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    name, sender = parseaddr(str(msg.get("From", "")))
    if "@" not in sender:
        raise InvalidInputError("The message has no sender address.")
    subject = " ".join(str(msg.get("Subject", "")).split())[:300]
    replies = _ids(msg.get("In-Reply-To")) + _ids(msg.get("References"))
    recipients = [a for _, a in getaddresses([str(v) for v in msg.get_all("To", [])])]
    return Mail(
        sender=sender.strip().lower(),
        sender_name=name.strip()[:200],
        subject=subject,
        text=_text(msg)[:100_000],
        message_id=(_ids(msg.get("Message-ID")) or ("",))[0],
        replies_to=tuple(dict.fromkeys(replies)),
        automatic=_automatic(msg, sender),
        attachments=_attachments(msg),
        headers={
            "from": str(msg.get("From", "")),
            "to": ", ".join(recipients),
            "subject": subject,
            "date": str(msg.get("Date", "")),
        },
    )
