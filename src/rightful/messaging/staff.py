"""The outbox as staff read it: checked against the permission table, each read recorded."""

from __future__ import annotations

from sqlalchemy.orm import Session

from rightful.core.config import Settings
from rightful.core.errors import NotFoundError
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
