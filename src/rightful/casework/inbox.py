"""One e-mail from the privacy mailbox into a case: ignored when a machine wrote it, a
duplicate when its Message-ID was seen, threaded when it answers a case of the same sender,
else a new case, classified and acknowledged."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from rightful.casework import classify, service
from rightful.casework.models import Case, CaseMessage
from rightful.casework.parse import Mail
from rightful.casework.types import Channel
from rightful.core.config import Settings
from rightful.core.errors import InvalidInputError
from rightful.rights import documents
from rightful.security import audit

ACTOR = "mailbox"


def _thread_of(session: Session, settings: Settings, mail: Mail) -> Case | None:
    """The sender's case this mail answers: by In-Reply-To/References, else by the reference
    in the subject. Only the same sender's: a guessed reference opens nobody else's case."""
    own = service.sender_hash(settings, mail.sender)
    if mail.replies_to:
        hashes = [service.message_hash(settings, m) for m in mail.replies_to]
        found = session.scalar(
            select(Case)
            .join(CaseMessage, CaseMessage.case_id == Case.id)
            .where(CaseMessage.message_hash.in_(hashes), Case.sender_hash == own)
            .limit(1)
        )
        if found is not None:
            return found
    if (reference := mail.case_reference) is not None:
        return session.scalar(
            select(Case).where(Case.reference == reference, Case.sender_hash == own)
        )
    return None


def _keep_attachments(
    session: Session, settings: Settings, mail: Mail, case: Case, msg: CaseMessage
) -> None:
    refused = []
    for item in mail.attachments:
        try:
            documents.store(
                session,
                settings,
                kind="mail_attachment",
                filename=item.filename,
                content_type=item.content_type,
                content=item.content,
                uploaded_by=ACTOR,
                case_id=case.id,
            )
        except InvalidInputError:
            refused.append(item.content_type)  # the type only: a file name can be personal
    if refused:
        msg.notes = "Attachments not kept (type not accepted): " + ", ".join(refused)
        session.flush()


def _incoming(mail: Mail) -> service.Incoming:
    return service.Incoming(
        email=mail.sender,
        name=mail.sender_name,
        subject=mail.subject,
        text=mail.text,
        message_id=mail.message_id,
        headers=mail.headers,
    )


def take(session: Session, settings: Settings, mail: Mail) -> tuple[str, str | None]:
    """Turn one mail into casework (flushes only); returns the outcome and the case id."""
    if mail.automatic:
        audit.record(
            session,
            actor=ACTOR,
            action="mailbox.ignored",
            subject_type="mailbox",
            subject_id="-",
            detail={"why": mail.automatic},
        )
        return "automatic", None
    if mail.message_id:
        seen = session.scalar(
            select(CaseMessage.case_id).where(
                CaseMessage.message_hash == service.message_hash(settings, mail.message_id)
            )
        )
        if seen is not None:
            return "duplicate", seen
    case = _thread_of(session, settings, mail)
    if case is not None:
        msg = service.add_incoming(session, settings, case, _incoming(mail), actor=ACTOR)
        _keep_attachments(session, settings, mail, case, msg)
        return "threaded", case.id
    suggestion = classify.suggest(mail.subject, mail.text)
    case = service.open_case(
        session,
        settings,
        _incoming(mail),
        kind=suggestion.kind,
        channel=Channel.EMAIL.value,
        actor=ACTOR,
        suggested_type=suggestion.request_type,
        language=classify.language(mail.subject, mail.text),
    )
    first = session.scalars(select(CaseMessage).where(CaseMessage.case_id == case.id)).one()
    _keep_attachments(session, settings, mail, case, first)
    service.acknowledge(session, settings, case)
    return "new_case", case.id
