"""The outbox as staff read it and send again: checked against the permission table, each read
and each resend recorded."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from rightful.core.config import Settings
from rightful.core.errors import ConflictError, NotFoundError
from rightful.messaging.models import OutboxMessage
from rightful.messaging.service import Letter, list_outbox, staff_view
from rightful.security import audit
from rightful.security.permissions import Actor, Permission, require


def _read(session: Session, actor: Actor, subject_id: str, what: str) -> None:
    audit.record(
        session,
        actor=actor.name,
        action="staff.read_personal",
        subject_type="outbox",
        subject_id=subject_id,
        detail={"what": what},
    )


def outbox_letters(
    session: Session, settings: Settings, *, actor: Actor, limit: int = 200
) -> list[Letter]:
    """The newest letters with their recipients, as staff may read them: recorded as a read."""
    require(actor, Permission.OUTBOX_READ)
    letters = [staff_view(settings, m) for m in list_outbox(session, limit=limit)]
    _read(session, actor, "list", f"{len(letters)} letters")
    return letters


def request_letters(session: Session, *, actor: Actor, request_id: str) -> list[OutboxMessage]:
    """A request's e-mails by subject and status (still sealed: nothing personal is opened)."""
    require(actor, Permission.OUTBOX_READ)
    return list_outbox(session, request_id=request_id)


def read_letter(session: Session, settings: Settings, *, actor: Actor, message_id: int) -> Letter:
    """One letter as its recipient read it (codes and private links masked): recorded."""
    require(actor, Permission.OUTBOX_READ)
    msg = session.get(OutboxMessage, message_id)
    if msg is None:
        raise NotFoundError("There is no such message.")
    _read(session, actor, str(msg.id), "letter")
    return staff_view(settings, msg)


def resend(session: Session, settings: Settings, *, actor: Actor, message_id: int) -> OutboxMessage:
    """Send a message again: a failed one gets a fresh retry schedule, one still waiting for
    its next try goes at once. A delivered message is not sent twice (ConflictError)."""
    require(actor, Permission.OUTBOX_RESEND)
    msg = session.get(OutboxMessage, message_id)
    if msg is None:
        raise NotFoundError("There is no such message.")
    if not settings.smtp_url:
        raise ConflictError("No mail server is set (RIGHTFUL_SMTP_URL): nothing can be sent.")
    if not _requeue(session, actor, msg.id, msg.status):
        raise ConflictError(f"This message is {msg.status}: only a failed or waiting one is sent.")
    session.refresh(msg)
    return msg


def resend_failed(session: Session, settings: Settings, *, actor: Actor) -> int:
    """Send every failed message again (after an outage longer than the retry schedule)."""
    require(actor, Permission.OUTBOX_RESEND)
    if not settings.smtp_url:
        raise ConflictError("No mail server is set (RIGHTFUL_SMTP_URL): nothing can be sent.")
    failed = session.scalars(select(OutboxMessage.id).where(OutboxMessage.status == "failed"))
    return sum(_requeue(session, actor, msg_id, "failed") for msg_id in list(failed))


def _requeue(session: Session, actor: Actor, msg_id: int, status: str) -> bool:
    # Conditional on the status read: two clicks, or a resend racing the worker, queue it once.
    if status not in ("failed", "queued"):
        return False
    values: dict[str, object] = {"next_attempt_at": None}
    if status == "failed":
        values |= {"status": "queued", "attempts": 0, "last_error": None}
    result = session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == msg_id, OutboxMessage.status == status)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if not result.rowcount:  # type: ignore[attr-defined]
        return False
    audit.record(
        session,
        actor=actor.name,
        action="outbox.resend",
        subject_type="outbox",
        subject_id=str(msg_id),
        detail={"was": status},
    )
    return True
