"""Every state change of a case, each writing its audit event; reads of what people wrote are
audited too. Permissions reuse the requests' (see docs/mailbox-and-cases.md): a case is the
office's intake of requests and questions, done by the same people."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from rightful.casework.models import Case, CaseMessage
from rightful.casework.promises import asks_for_id_or_password
from rightful.casework.types import OPEN, OUTCOMES, STATUS_LABELS, TRANSITIONS, Kind, Status
from rightful.core import i18n
from rightful.core.calendar import add_business_days
from rightful.core.clock import utcnow
from rightful.core.config import Settings
from rightful.core.errors import ConflictError, InvalidInputError, NotFoundError
from rightful.messaging import limits
from rightful.messaging.service import queue_email
from rightful.rights.kinds import kind_of
from rightful.security import audit
from rightful.security.permissions import Actor, Permission, require
from rightful.security.tokens import LinkSigner
from rightful.security.vault import Vault, keyed_hash

_REF_ALPHABET = "ACDEFGHJKMNPQRTUVWXY3479"  # as rights references: no look-alike characters
CONFIRM_LINK_SECONDS = 30 * 86400
# Acknowledgements one address gets an hour: a mail loop or a flood stops here, quietly.
CASE_ACKS = limits.MailLimit("case-ack", per_address=3, per_client=20)


def vault(settings: Settings) -> Vault:
    """The vault sealing what people wrote to the office."""
    return Vault(settings, "cases")


def sender_hash(settings: Settings, email: str) -> str:
    """A keyed hash of a sender's address: finds their cases without keeping the address."""
    return keyed_hash(settings.secret_key, "case-sender", email.strip().lower())


def message_hash(settings: Settings, message_id: str) -> str:
    """A keyed hash of a Message-ID, for duplicates and threading."""
    return keyed_hash(settings.secret_key, "case-message", message_id.strip())


def confirm_signer(settings: Settings) -> LinkSigner:
    """Signs the link where the person confirms what they want."""
    return LinkSigner(settings.secret_key, "case-confirm")


def confirm_url(settings: Settings, case_id: str) -> str:
    """The link in the acknowledgement: no personal data, only a signed case id."""
    return f"{settings.base_url}/cases/confirm/{confirm_signer(settings).sign(case_id)}"


def respond_due(settings: Settings, received_at: datetime) -> date:
    """The response target: so many business days after the day it came."""
    return add_business_days(received_at.date(), settings.case_response_business_days)


def move(
    session: Session,
    case: Case,
    to: Status,
    *,
    actor: str,
    detail: dict[str, Any] | None = None,
) -> None:
    """The single place a case's status changes; refuses moves the lifecycle does not allow."""
    current = Status(case.status)
    if to == current:
        return
    if to not in TRANSITIONS[current]:
        raise ConflictError(
            f"A case that is '{STATUS_LABELS[current]}' cannot become '{STATUS_LABELS[to]}'."
        )
    case.status = to.value
    case.closed_at = utcnow() if to is Status.CLOSED else None
    session.flush()
    audit.record(
        session,
        actor=actor,
        action=f"case.{to.value}",
        subject_type="case",
        subject_id=case.id,
        detail={"from": current.value, **(detail or {})},
    )


@dataclass(frozen=True)
class Incoming:
    """What someone sent: the sender, the words, and the mail's own headers if any."""

    email: str
    name: str = ""
    subject: str = ""
    text: str = ""
    message_id: str = ""
    headers: dict[str, str] | None = None


def _add_message(
    session: Session, settings: Settings, case: Case, incoming: Incoming, *, author: str
) -> CaseMessage:
    headers = {**(incoming.headers or {}), "message_id": incoming.message_id}
    msg = CaseMessage(
        case_id=case.id,
        direction="in",
        body=vault(settings).encrypt_json({"text": incoming.text, "headers": headers}),
        message_hash=message_hash(settings, incoming.message_id) if incoming.message_id else None,
        author=author,
    )
    session.add(msg)
    session.flush()
    return msg


def open_case(
    session: Session,
    settings: Settings,
    incoming: Incoming,
    *,
    kind: Kind,
    channel: str,
    actor: str,
    suggested_type: str | None = None,
    language: str = i18n.DEFAULT,
    received_at: datetime | None = None,
) -> Case:
    """Record a new case with its first message and its response target."""
    now = received_at or utcnow()
    if suggested_type is not None:
        kind_of(suggested_type)  # a known type, or InvalidInputError
    email = incoming.email.strip().lower()
    case = Case(
        id=uuid.uuid4().hex,
        reference="PC-" + "".join(secrets.choice(_REF_ALPHABET) for _ in range(6)),
        kind=Kind(kind).value,
        status=Status.NEW.value,
        channel=channel,
        language=i18n.supported(language) or i18n.DEFAULT,
        suggested_type=suggested_type,
        received_at=now,
        respond_due=respond_due(settings, now),
        sender=vault(settings).encrypt_json({"email": email, "name": incoming.name}),
        # Someone without e-mail (a call, a letter) gets a hash of nothing anyone can send.
        sender_hash=sender_hash(settings, email or f"none:{uuid.uuid4().hex}"),
        subject=vault(settings).encrypt((incoming.subject or "").encode()).decode(),
    )
    session.add(case)
    session.flush()
    _add_message(session, settings, case, incoming, author=actor)
    audit.record(
        session,
        actor=actor,
        action="case.received",
        subject_type="case",
        subject_id=case.id,
        detail={"kind": case.kind, "channel": channel, "suggested_type": suggested_type},
    )
    return case


def add_incoming(
    session: Session, settings: Settings, case: Case, incoming: Incoming, *, actor: str
) -> CaseMessage:
    """The person wrote again: the message joins the thread and the case is open again."""
    msg = _add_message(session, settings, case, incoming, author=actor)
    audit.record(
        session,
        actor=actor,
        action="case.message_received",
        subject_type="case",
        subject_id=case.id,
    )
    if case.status in (Status.WAITING, Status.ANSWERED, Status.CLOSED):
        move(session, case, Status.IN_PROGRESS, actor=actor, detail={"reason": "person wrote"})
    return msg


def sender_of(settings: Settings, case: Case) -> dict[str, str]:
    """The sender's address and name (inside e-mail and audited staff views only)."""
    value: dict[str, str] = vault(settings).decrypt_json(case.sender)
    return value


def _threading(settings: Settings, case: Case, session: Session) -> dict[str, str]:
    # Answer the person's latest message so their mail program shows one conversation.
    last = session.scalars(
        select(CaseMessage)
        .where(CaseMessage.case_id == case.id, CaseMessage.direction == "in")
        .order_by(CaseMessage.id.desc())
    ).first()
    if last is None:
        return {}
    message_id = vault(settings).decrypt_json(last.body)["headers"].get("message_id", "")
    return {"In-Reply-To": message_id, "References": message_id} if message_id else {}


def acknowledge(session: Session, settings: Settings, case: Case) -> bool:
    """E-mail the sender the case reference (and, for a request, the link to confirm it).
    The same words for anyone: nothing says whether we know them. False when not sent (no
    address, or this address had its share of acknowledgements this hour)."""
    email = sender_of(settings, case).get("email", "")
    if not email or not limits.may_send(session, settings, CASE_ACKS, address=email, client=None):
        return False
    is_request = case.kind == Kind.REQUEST.value
    queue_email(
        session,
        settings,
        to=email,
        template="case_received",
        context={
            "reference": case.reference,
            "is_request": is_request,
            "is_complaint": case.kind == Kind.COMPLAINT.value,
            "type_label": kind_of(case.suggested_type).label if case.suggested_type else "",
            "confirm_url": confirm_url(settings, case.id) if is_request else "",
            "respond_due": i18n.format_date(case.respond_due, case.language),
        },
        headers=_threading(settings, case, session),
        language=case.language,
    )
    audit.record(
        session, actor="system", action="case.acknowledged", subject_type="case", subject_id=case.id
    )
    if is_request:
        move(session, case, Status.WAITING, actor="system", detail={"reason": "to confirm"})
    return True


def access_case(session: Session, case_id: str) -> Case:
    """One case by id or reference; NotFoundError otherwise."""
    case = session.get(Case, case_id) if case_id else None
    if case is None and case_id:
        case = session.scalar(select(Case).where(Case.reference == case_id.strip().upper()))
    if case is None:
        raise NotFoundError("There is no such case.")
    return case


def view_case(session: Session, *, actor: Actor, case_id: str) -> Case:
    """A case for the console (its facts, no personal data)."""
    require(actor, Permission.REQUESTS_VIEW)
    return access_case(session, case_id)


def list_cases(
    session: Session,
    *,
    actor: Actor,
    kind: str = "",
    status: str = "",
    assigned: str = "",
    due: str = "",
    limit: int = 300,
) -> list[Case]:
    """Cases for the queue (no personal data): open first, soonest due first."""
    require(actor, Permission.REQUESTS_VIEW)
    stmt = select(Case).order_by(Case.closed_at.is_not(None), Case.respond_due, Case.received_at)
    if kind:
        stmt = stmt.where(Case.kind == kind)
    if status == "open":
        stmt = stmt.where(Case.status.in_([s.value for s in OPEN]))
    elif status:
        stmt = stmt.where(Case.status == status)
    if assigned == "me":
        stmt = stmt.where(Case.assigned_to == actor.name)
    elif assigned == "nobody":
        stmt = stmt.where(Case.assigned_to.is_(None))
    if due == "overdue":
        stmt = stmt.where(
            Case.respond_due < utcnow().date(), Case.status.in_([s.value for s in OPEN])
        )
    return list(session.scalars(stmt.limit(limit)))


def overdue(case: Case, today: date | None = None) -> bool:
    """An open case past its response target."""
    return Status(case.status) in OPEN and case.respond_due < (today or utcnow().date())


@dataclass(frozen=True)
class ThreadEntry:
    """One message of a case as staff read it."""

    direction: str
    at: datetime
    author: str
    text: str
    subject: str
    notes: str


def read_case(
    session: Session, settings: Settings, *, actor: Actor, case: Case
) -> tuple[dict[str, str], str, list[ThreadEntry]]:
    """The sender, the subject and the thread, for staff who may read them (audited)."""
    require(actor, Permission.REQUESTS_READ_PERSONAL)
    box = vault(settings)
    thread = []
    for msg in session.scalars(
        select(CaseMessage).where(CaseMessage.case_id == case.id).order_by(CaseMessage.id)
    ):
        body = box.decrypt_json(msg.body)
        thread.append(
            ThreadEntry(
                msg.direction,
                msg.at,
                msg.author,
                body["text"],
                body["headers"].get("subject", ""),
                msg.notes,
            )
        )
    audit.record(
        session,
        actor=actor.name,
        action="staff.read_personal",
        subject_type="case",
        subject_id=case.id,
        detail={"what": "case thread"},
    )
    subject = box.decrypt(case.subject.encode()).decode() if case.subject else ""
    return sender_of(settings, case), subject, thread


def assign(session: Session, *, actor: Actor, case_id: str, to: str | None) -> Case:
    """Give a case to a staff member (their e-mail), or to nobody."""
    require(actor, Permission.REQUESTS_SUBMIT)
    case = access_case(session, case_id)
    case.assigned_to = (to or "").strip().lower()[:200] or None
    session.flush()
    audit.record(
        session,
        actor=actor.name,
        action="case.assigned",
        subject_type="case",
        subject_id=case.id,
        detail={"to": case.assigned_to},
    )
    if case.status == Status.NEW.value and case.assigned_to:
        move(session, case, Status.IN_PROGRESS, actor=actor.name)
    return case


def reply(
    session: Session, settings: Settings, *, actor: Actor, case_id: str, text: str
) -> CaseMessage:
    """Send the person staff's written answer, threaded onto their mail, reference in the
    subject; the case is then answered."""
    require(actor, Permission.REQUESTS_SUBMIT)
    case = access_case(session, case_id)
    if len(text.strip()) < 10:
        raise InvalidInputError(
            "Write the answer in full.", errors=[{"field": "text", "message": "Write the answer."}]
        )
    if asks := asks_for_id_or_password(text):
        raise InvalidInputError(  # the privacy statement promises we never ask for them
            "We never ask for a password or an ID document by e-mail.",
            errors=[{"field": "text", "message": f"Take this out: {asks[0]}"}],
        )
    email = sender_of(settings, case).get("email", "")
    if not email:
        raise ConflictError("This person gave no e-mail address: answer by post or phone.")
    queue_email(
        session,
        settings,
        to=email,
        template="case_reply",
        context={"reference": case.reference, "body": text.strip()},
        headers=_threading(settings, case, session),
        language=case.language,
    )
    msg = CaseMessage(
        case_id=case.id,
        direction="out",
        body=vault(settings).encrypt_json({"text": text.strip(), "headers": {}}),
        author=actor.name,
    )
    session.add(msg)
    session.flush()
    audit.record(
        session, actor=actor.name, action="case.replied", subject_type="case", subject_id=case.id
    )
    move(session, case, Status.ANSWERED, actor=actor.name)
    return msg


def link_request(session: Session, *, actor: Actor, case_id: str, request_id: str) -> Case:
    """Link a case to the rights request it became (or was about)."""
    from rightful.rights.service import access_request

    require(actor, Permission.REQUESTS_SUBMIT)
    case = access_case(session, case_id)
    wanted = request_id.strip()
    req = access_request(session, wanted.upper() if wanted.lower().startswith("r-") else wanted)
    case.request_id = req.id
    session.flush()
    audit.record(
        session,
        actor=actor.name,
        action="case.linked",
        subject_type="case",
        subject_id=case.id,
        detail={"request": req.id},
    )
    return case


def close(session: Session, *, actor: Actor, case_id: str, outcome: str) -> Case:
    """Close a case with one of the outcomes."""
    require(actor, Permission.REQUESTS_SUBMIT)
    if outcome not in OUTCOMES:
        raise InvalidInputError(
            "Choose how the case ended.",
            errors=[{"field": "outcome", "message": "Choose an outcome."}],
        )
    case = access_case(session, case_id)
    case.outcome = outcome
    move(session, case, Status.CLOSED, actor=actor.name, detail={"outcome": outcome})
    return case
