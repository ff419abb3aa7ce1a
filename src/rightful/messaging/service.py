"""Queue e-mails in the outbox inside the caller's transaction; deliver them after commit."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any

from jinja2 import TemplateError
from sqlalchemy import case, insert, literal, or_, select, update
from sqlalchemy.orm import Session

from rightful.core import claims, i18n
from rightful.core.clock import utcnow
from rightful.core.config import Settings
from rightful.messaging.models import OutboxMessage
from rightful.messaging.render import as_draft, render, render_draft
from rightful.messaging.smtp import SMTP_TIMEOUT_SECONDS, Outgoing, send_all
from rightful.security import audit_append
from rightful.security.vault import Vault


@dataclass(frozen=True)
class Letter:
    """An outbox message opened for reading."""

    id: int
    to: str
    subject: str
    text: str
    html: str
    status: str
    created_at: str
    template: str
    headers: dict[str, str] = field(default_factory=dict)
    attempts: int = 0
    last_error: str | None = None
    next_attempt_at: str | None = None  # when a queued message is tried again (after a failure)
    # True only in demo mode, where staff read codes and links to take the tour (no real mail).
    secrets_shown: bool = False


def vault(settings: Settings) -> Vault:
    """The vault that seals outbox messages."""
    return Vault(settings, "outbox")


def queue_email(
    session: Session,
    settings: Settings,
    *,
    to: str,
    template: str,
    context: dict[str, Any],
    request_id: str | None = None,
    headers: dict[str, str] | None = None,
    language: str = i18n.DEFAULT,
    sent: bool = True,
) -> OutboxMessage:
    """Add `template` (.subject, .txt, .html) in `language` to the outbox.

    A message a mail server will send is kept as a draft (the template's values, sealed) and
    rendered by the mail lane (`deliver_pending`), off the caller's request; one that is only
    recorded (no mail server, or `sent` False: printed and posted) is rendered now, as staff
    read it from the row."""
    subject, body = _compose(
        settings,
        to=to,
        template=template,
        context=context,
        headers=headers,
        language=language,
        sent=sent,
    )
    return _add(
        session, settings, template=template, subject=subject, body=body, request_id=request_id
    )


_OUTBOX = OutboxMessage.metadata.tables[OutboxMessage.__tablename__]
# A message no caller reads back: written with the transaction's audit events (`queue_letter`).
_LETTER = audit_append.rider(
    "outbox_letter",
    OutboxMessage.__tablename__,
    "INSERT INTO outbox_messages (template, subject, sealed, request_id, status, attempts, "
    "created_at) VALUES (:template, :subject, :sealed, :request_id, :status, 0, :created_at)",
    **{
        k: _OUTBOX.c[k].type
        for k in ("template", "subject", "sealed", "request_id", "status", "created_at")
    },
)


def queue_letter(
    session: Session,
    settings: Settings,
    *,
    to: str,
    template: str,
    context: dict[str, Any],
    request_id: str | None = None,
    headers: dict[str, str] | None = None,
    language: str = i18n.DEFAULT,
    sent: bool = True,
    status: str | None = None,
) -> None:
    """`queue_email` for a caller that needs nothing back (`status`: the one to keep it with
    when not the usual one): the row goes in with the transaction's audit events, in their
    statement on PostgreSQL (security/audit_append.ride), one statement fewer."""
    subject, body = _compose(
        settings,
        to=to,
        template=template,
        context=context,
        headers=headers,
        language=language,
        sent=sent,
    )
    row = {
        "template": template,
        "subject": subject,
        "sealed": vault(settings).encrypt_json(body),
        "request_id": request_id,
        "status": status or _first_status(settings),
        "created_at": utcnow(),
    }
    audit_append.ride(session, _LETTER, row)


def queue_emails(session: Session, settings: Settings, letters: Sequence[Mapping[str, Any]]) -> int:
    """`queue_email` for many messages (each: its keyword arguments, and the `status` to give
    it when not the usual one), in one multi-row INSERT; returns how many. Nothing is read
    back: for a batch that needs no message's id (rights/access_finish.py)."""
    rows = []
    for letter in letters:
        args = {k: v for k, v in letter.items() if k not in ("request_id", "status")}
        subject, body = _compose(settings, **args)
        rows.append(
            {
                "template": letter["template"],
                "subject": subject,
                "sealed": vault(settings).encrypt_json(body),
                "request_id": letter.get("request_id"),
                "status": letter.get("status") or _first_status(settings),
            }
        )
    if rows:
        session.execute(insert(OutboxMessage), rows)
    return len(rows)


def _compose(
    settings: Settings,
    *,
    to: str,
    template: str,
    context: dict[str, Any],
    headers: dict[str, str] | None = None,
    language: str = i18n.DEFAULT,
    sent: bool = True,
) -> tuple[str, dict[str, Any]]:
    """A message's subject and sealed body: a draft for the mail lane, or rendered now."""
    ctx = {
        "lang": i18n.supported(language) or i18n.DEFAULT,
        "company": settings.company_name,
        "privacy_email": settings.privacy_email,
        "postal_address": settings.postal_address,
        **context,
    }
    draft = as_draft(ctx) if settings.smtp_url and sent else None
    if draft is not None:
        return "", {"to": to, "draft": draft, "headers": headers or {}}
    subject, text, html = render(template, ctx)
    return subject, {"to": to, "text": text, "html": html, "headers": headers or {}}


def queue_message(
    session: Session,
    settings: Settings,
    *,
    to: str,
    subject: str,
    text: str,
    html: str,
    template: str,
    request_id: str | None = None,
    headers: dict[str, str] | None = None,
) -> OutboxMessage:
    """Add an already written message to the outbox (extra headers such as List-Unsubscribe)."""
    body = {"to": to, "text": text, "html": html, "headers": headers or {}}
    return _add(
        session, settings, template=template, subject=subject, body=body, request_id=request_id
    )


def _add(
    session: Session,
    settings: Settings,
    *,
    template: str,
    subject: str,
    body: dict[str, Any],
    request_id: str | None,
) -> OutboxMessage:
    msg = OutboxMessage(
        template=template,
        subject=subject,
        sealed=vault(settings).encrypt_json(body),
        request_id=request_id,
        status=_first_status(settings),
    )
    session.add(msg)
    session.flush()
    return msg


def _first_status(settings: Settings) -> str:
    return "queued" if settings.smtp_url else "recorded"


def _opened(settings: Settings, msg: OutboxMessage) -> tuple[dict[str, Any], str, bool]:
    """The message's body and subject, a draft rendered now; True when it was a draft."""
    body: dict[str, Any] = vault(settings).decrypt_json(msg.sealed)
    if "draft" not in body:
        return body, msg.subject, False
    subject, text, html = render_draft(msg.template, body.pop("draft"))
    return {**body, "text": text, "html": html}, subject, True


def open_letter(settings: Settings, msg: OutboxMessage) -> Letter:
    """Decrypt one message for a staff member's eyes (a draft rendered as it will be sent)."""
    body, subject, _ = _opened(settings, msg)
    return _letter(msg, body, subject)


def _letter(msg: OutboxMessage, body: dict[str, Any], subject: str) -> Letter:
    return Letter(
        id=msg.id,
        to=body["to"],
        subject=subject,
        text=body["text"],
        html=body["html"],
        status=msg.status,
        created_at=msg.created_at.isoformat(),
        template=msg.template,
        headers=body.get("headers", {}),
        attempts=msg.attempts,
        last_error=msg.last_error,
        next_attempt_at=msg.next_attempt_at.isoformat() if msg.next_attempt_at else None,
    )


# Every single-purpose link Rightful e-mails: whoever holds one can act as its recipient.
SINGLE_PURPOSE_PATHS = (
    "status",
    "download",
    "unsubscribe",
    "preferences/open",
    "list-removal/confirm",
    "subscribe/confirm",
    "partners/ack",
    "admin/welcome",
    "confirm-agent",
    "cases/confirm",
    "appeal",
    "transfers/confirm",
    "transfers/receive",
)
_SECRETS = re.compile(
    r"\b\d{6}\b|(/(?:" + "|".join(re.escape(p) for p in SINGLE_PURPOSE_PATHS) + r")/)"
    r"[A-Za-z0-9_.\-]+"
)


def _mask(text: str) -> str:
    return _SECRETS.sub(lambda m: f"{m.group(1)}[hidden]" if m.group(1) else "••••••", text)


def hide_secrets(letter: Letter) -> Letter:
    """The letter as staff may read it: codes and single-purpose links masked, in the body and
    the headers (List-Unsubscribe).

    Staff need to see what was sent, not to use a consumer's code, download their data, sign in
    as them, confirm their sign-up, or confirm a partner's deletion in the partner's name.
    """
    headers = {name: _mask(value) for name, value in letter.headers.items()}
    return replace(letter, text=_mask(letter.text), html=_mask(letter.html), headers=headers)


def staff_view(settings: Settings, msg: OutboxMessage) -> Letter:
    """A message for the console and API: secrets masked, except in the demo (no real mail),
    where the letter says they are shown."""
    letter = open_letter(settings, msg)
    return replace(letter, secrets_shown=True) if settings.demo_mode else hide_secrets(letter)


def list_outbox(
    session: Session, *, request_id: str | None = None, limit: int = 200
) -> list[OutboxMessage]:
    """Newest messages first, optionally for one request."""
    stmt = select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(limit)
    if request_id:
        stmt = stmt.where(OutboxMessage.request_id == request_id)
    return list(session.scalars(stmt))


def retry_wait(settings: Settings, attempts: int) -> timedelta | None:
    """How long to wait after the `attempts`-th failed try; None once the schedule is used up."""
    schedule = settings.mail_retry_schedule
    return timedelta(seconds=schedule[attempts - 1]) if attempts <= len(schedule) else None


def _outcome(
    session: Session,
    ids: list[int],
    won: claims.Claim | None,
    rendered: dict[int, tuple[str, str]],
    **values: Any,
) -> int:
    """Write one outcome for `ids` in one statement, and let their claims go: a failure only
    while this worker still holds the claim (`won`), a delivery whatever the claim says now
    (the server has it, and leaving it queued would send it again). A message rendered from
    its draft keeps what was rendered (`rendered`: subject and sealed body by id), so staff and
    a resend see exactly what was tried."""
    if not ids:
        return 0
    mine = {i: rendered[i] for i in ids if i in rendered}
    if mine:
        by_id = OutboxMessage.id
        values["subject"] = case(
            {i: s for i, (s, _) in mine.items()}, value=by_id, else_=OutboxMessage.subject
        )
        values["sealed"] = case(
            {i: b for i, (_, b) in mine.items()}, value=by_id, else_=OutboxMessage.sealed
        )
    held = [won.held(OutboxMessage.claimed_by, OutboxMessage.claimed_until)] if won else []
    result = session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(ids), OutboxMessage.status == "queued", *held)
        .values(**values, attempts=OutboxMessage.attempts + 1, claimed_by=None, claimed_until=None)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def _per_id(column: Any, values: dict[int, Any]) -> Any:
    """A CASE giving each id its own value (typed as `column`, so dates bind as stored)."""
    return case(
        {i: literal(v, type_=column.type) for i, v in values.items()}, value=OutboxMessage.id
    )


def _failed(
    session: Session,
    settings: Settings,
    won: claims.Claim,
    failures: list[tuple[OutboxMessage, str]],
    rendered: dict[int, tuple[str, str]],
) -> None:
    """Record failed tries in one statement: each waits its turn in the retry schedule, and
    only one that used the schedule up is failed."""
    if not failures:
        return
    now, status, retry_at, error = utcnow(), {}, {}, {}
    for msg, reason in failures:
        wait = retry_wait(settings, msg.attempts + 1)
        status[msg.id] = "queued" if wait is not None else "failed"
        retry_at[msg.id] = now + wait if wait is not None else None
        error[msg.id] = reason  # the reason is kept; the address is not (personal data)
    _outcome(
        session,
        list(status),
        won,
        rendered,
        status=_per_id(OutboxMessage.status, status),
        next_attempt_at=_per_id(OutboxMessage.next_attempt_at, retry_at),
        last_error=_per_id(OutboxMessage.last_error, error),
    )


def _claimed(session: Session, won: claims.Claim) -> list[OutboxMessage]:
    """The messages a claim won: as it returned them (PostgreSQL), else read in one query."""
    if won.rows or not won.ids:
        return list(won.rows)
    query = (
        select(OutboxMessage)
        .where(OutboxMessage.id.in_(won.ids))
        .order_by(OutboxMessage.id)
        .execution_options(populate_existing=True)
    )
    return list(session.scalars(query))


def deliver_pending(session: Session, settings: Settings, *, limit: int | None = None) -> int:
    """Claim queued messages that are due and send them over one SMTP session; a failed try
    waits its turn in `mail_retry_schedule`, and only a message that used the schedule up is
    failed. The pass writes its outcomes in two statements at most (sent, failed), committed
    together after the session. Returns how many were sent."""
    if not settings.smtp_url:
        return 0
    now, limit = utcnow(), limit or settings.worker_batch_size
    # Long enough for every message of the batch to time out: a live worker records them all.
    lease = timedelta(seconds=settings.claim_seconds + limit * SMTP_TIMEOUT_SECONDS)
    won = claims.claim(
        session,
        OutboxMessage,
        OutboxMessage.status == "queued",
        or_(OutboxMessage.next_attempt_at.is_(None), OutboxMessage.next_attempt_at <= now),
        lease=lease,
        grace=timedelta(seconds=settings.worker_silent_seconds),
        limit=limit,
    )
    messages = _claimed(session, won)
    if not messages:
        return 0
    seal, rendered = vault(settings), {}
    ready: list[tuple[OutboxMessage, Outgoing]] = []
    failures: list[tuple[OutboxMessage, str]] = []
    for msg in messages:
        try:
            body, subject, drafted = _opened(settings, msg)
        except (TemplateError, LookupError, TypeError, ValueError) as exc:
            # One message that cannot be rendered must not hold back the rest of the pass.
            failures.append((msg, type(exc).__name__))
            continue
        if drafted:
            rendered[msg.id] = (subject, seal.encrypt_json(body))
        ready.append(
            (
                msg,
                Outgoing(body["to"], subject, body["text"], body["html"], body.get("headers", {})),
            )
        )
    answers = send_all(settings.smtp_url, settings.mail_from, [letter for _, letter in ready])
    sent_ids = [msg.id for (msg, _), error in zip(ready, answers, strict=True) if error is None]
    failures += [(msg, e) for (msg, _), e in zip(ready, answers, strict=True) if e is not None]
    sent = _outcome(session, sent_ids, None, rendered, status="sent", sent_at=utcnow())
    _failed(session, settings, won, failures, rendered)
    session.commit()
    return sent
