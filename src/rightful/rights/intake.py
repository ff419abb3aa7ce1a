"""Requests staff take down themselves: a letter, a phone call, a visit.

The console, the API and the CLI all record them here. The clocks run from the day the request
came in, not the day it was typed in; the audit trail keeps both (the event's own time is when
it was entered). Staff say how they checked who the person is; that check is recorded on the
request (the note sealed) and in the audit trail, never with personal data in its detail.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from sqlalchemy.orm import Session

from rightful.core import i18n
from rightful.core.clock import utcnow
from rightful.core.config import Settings
from rightful.core.errors import ConflictError, InvalidInputError, NotFoundError
from rightful.identity import service as codes
from rightful.messaging.models import OutboxMessage
from rightful.messaging.service import Letter, open_letter, staff_view
from rightful.rights import documents, flows, service
from rightful.rights.kinds import kind_of
from rightful.rights.models import RightsRequest
from rightful.rights.schemas import STAFF_CHANNELS, RequestIn
from rightful.rights.types import Status
from rightful.security import audit
from rightful.security.permissions import Actor, Permission, require

CHANNELS = {"post": "Letter", "phone": "Phone call", "in_person": "In person"}
# How staff may check who wrote or called. The e-mailed code is the web's own check.
METHODS = {
    "data_points_phone": "Details matched against our records over the phone",
    "knowledge_questions": "Questions only the person could answer",
    "signed_letter": "Signed letter compared with our records",
    "in_person": "Checked in person",
    "email_code": "Code e-mailed to the person (they enter it on the status page)",
}


@dataclass(frozen=True)
class Upload:
    """A file staff or a person sent with a form (the shell reads it; this layer seals it)."""

    filename: str
    content_type: str
    content: bytes


def may_record(actor: Actor) -> None:
    """Whether `actor` may record requests for people (ForbiddenError otherwise): the console
    asks before showing or reading its intake form."""
    require(actor, Permission.REQUESTS_SUBMIT)


def open_request_document(
    session: Session, settings: Settings, *, actor: Actor, request_id: str, doc_id: str
) -> documents.Opened:
    """One of a request's documents for staff who read personal data (the read is audited)."""
    require(actor, Permission.REQUESTS_READ_PERSONAL)
    req = service.access_request(session, request_id)
    if doc_id not in {d.id for d in documents.listed(session, request_id=req.id)}:
        raise NotFoundError("There is no such document for this request.")
    return documents.open_document(session, settings, actor=actor, doc_id=doc_id)


def _field_error(field: str, message: str) -> InvalidInputError:
    return InvalidInputError(message, errors=[{"field": field, "message": message}])


def received_moment(received_on: date | None, now: datetime) -> datetime:
    """The instant the clocks start from: midday UTC of the day received (the same calendar
    day in every US and European time zone), never later than now."""
    if received_on is None:
        return now
    return min(datetime.combine(received_on, time(12), tzinfo=UTC), now)


# What an agent's or a parent's letter comes with, by document kind (documents.KINDS).
PAPERS = {
    "agent": ("agent_permission", "power_of_attorney"),
    "parent": ("parent_evidence",),
}


def _papers_missing(
    settings: Settings, data: RequestIn, papers: dict[str, Upload]
) -> list[dict[str, str]]:
    """An agent's letter needs the consumer's signed permission or a power of attorney; a
    parent's needs evidence of the relation only when the company's policy asks for it."""
    if data.requester_role == "agent" and not papers:
        return [
            {
                "field": "agent_permission",
                "message": "Upload the consumer's signed permission for the agent "
                "(or the power of attorney, if the agent sent one).",
            }
        ]
    if data.requester_role == "parent" and settings.parent_evidence == "required" and not papers:
        return [
            {
                "field": "parent_evidence",
                "message": "Upload the evidence that they are the child's parent or guardian "
                "(the company's policy asks for it).",
            }
        ]
    return []


def _check(data: RequestIn) -> None:
    """Field errors for what only staff entry has (the day received is checked by RequestIn)."""
    errors: list[dict[str, str]] = []
    if data.identity_method == "email_code" and not data.email:
        errors.append(
            {
                "field": "identity_method",
                "message": "A code needs an e-mail address: choose another way to check.",
            }
        )
    if data.channel not in STAFF_CHANNELS | {"email", "api"}:
        errors.append({"field": "channel", "message": "Choose letter, phone or in person."})
    if errors:
        raise InvalidInputError("Some details need attention.", errors=errors)


def _store(
    session: Session,
    settings: Settings,
    upload: Upload,
    *,
    kind: str,
    field: str,
    by: str,
    request_id: str,
) -> None:
    try:
        documents.store(
            session,
            settings,
            kind=kind,
            filename=upload.filename,
            content_type=upload.content_type,
            content=upload.content,
            uploaded_by=by,
            request_id=request_id,
        )
    except InvalidInputError as exc:
        raise _field_error(field, exc.detail) from None


def _store_all(
    session: Session,
    settings: Settings,
    letter: Upload | None,
    papers: dict[str, Upload],
    *,
    by: str,
    request_id: str,
) -> None:
    found = {"letter": letter} if letter is not None else {}
    for kind, upload in {**found, **papers}.items():
        _store(session, settings, upload, kind=kind, field=kind, by=by, request_id=request_id)


def record(
    session: Session,
    settings: Settings,
    data: RequestIn,
    *,
    actor: Actor,
    via: str,
    letter: Upload | None = None,
    papers: dict[str, Upload] | None = None,
    imported: dict[str, str] | None = None,
) -> RightsRequest:
    """Record a request received on a person's behalf (`via`: console, api, cli).

    A request from the web or an integrator's site (no date received, no identity check) takes
    the web's path: a code e-mailed. One staff took by letter, phone or in person starts its
    clocks on the day received; with an identity check other than a code it is verified by the
    staff member recorded; without an e-mail address its letters are printed and posted.
    An agent's or a parent's letter comes with its `papers` (by document kind): the consumer's
    signed permission or a power of attorney, the evidence of parenthood. A line of a bulk
    import (`imported`: its source and reference, rights/bulk.py) carries no papers: the agent
    service holds the permission, and staff check it before approving (docs/bulk-intake.md).
    """
    require(actor, Permission.REQUESTS_SUBMIT)
    now = utcnow()
    _check(data)
    wanted = PAPERS.get(data.requester_role, ())
    papers = {k: v for k, v in (papers or {}).items() if k in wanted and v.content}
    if imported is None and (errors := _papers_missing(settings, data, papers)):
        raise InvalidInputError("Some details need attention.", errors=errors)
    taken_by_staff = data.channel in STAFF_CHANNELS or data.received_at or data.identity_method
    if not taken_by_staff:
        req = flows.submit(session, settings, data, client=None, actor=f"{via}:{actor.name}")
        _store_all(session, settings, letter, papers, by=actor.name, request_id=req.id)
        return req
    req = service.create_request(
        session,
        settings,
        data,
        actor=f"{via}:{actor.name}",
        received_at=received_moment(data.received_at, now),
    )
    audit.record(
        session,
        actor=actor.name,
        action="request.entered",
        subject_type="rights_request",
        subject_id=req.id,
        detail={
            "channel": data.channel,
            "received_on": req.received_at.date().isoformat(),
            "via": via,
            "letter": letter is not None,
            "requester_role": data.requester_role,
            **({"imported": imported} if imported else {}),
        },
    )
    _store_all(session, settings, letter, papers, by=actor.name, request_id=req.id)
    code = None
    if data.identity_method and data.identity_method != "email_code":
        _verified(
            session,
            settings,
            req,
            actor=actor,
            method=data.identity_method,
            note=data.identity_note,
        )
    elif req.required_level == 0:
        service.move(
            session,
            req,
            Status.VERIFIED,
            actor="system",
            reason="no verification needed for this request type",
        )
        _route(session, settings, req)
    elif req.reply_by == "email":  # a code, as on the web (chosen, or no check recorded yet)
        address = service.reply_address(settings, req) or ""
        code = codes.issue_code(
            session, settings, request_id=req.id, email=address, client=None, replaces=False
        )
        service.move(session, req, Status.VERIFYING, actor="system")
    _acknowledge(session, settings, req, code=code)
    return req


def _route(session: Session, settings: Settings, req: RightsRequest) -> None:
    # Execution finds a person's records by e-mail: without one, staff carry it out by hand.
    if req.reply_by == "post":
        service.move(
            session,
            req,
            Status.AWAITING_APPROVAL,
            actor="system",
            reason="no e-mail address: carried out by hand",
        )
    else:
        service.route_verified(session, settings, req, actor="system")


def _acknowledge(
    session: Session, settings: Settings, req: RightsRequest, *, code: str | None
) -> None:
    if code is not None:
        service.acknowledge(session, settings, req, code=code)
        return
    service.notify_consumer(
        session,
        settings,
        req,
        "received_by_staff",
        {
            "channel": req.channel,
            "received_on": i18n.format_date(req.received_at.date(), req.language),
            "checked": req.identity_method is not None or req.required_level == 0,
        },
    )
    audit.record(
        session,
        actor="system",
        action="request.acknowledged",
        subject_type="rights_request",
        subject_id=req.id,
        detail={"by": req.reply_by},
    )


def _verified(
    session: Session,
    settings: Settings,
    req: RightsRequest,
    *,
    actor: Actor,
    method: str,
    note: str | None,
) -> None:
    if method not in METHODS or method == "email_code":
        raise _field_error("identity_method", "Choose how you checked the person's identity.")
    req.identity_method = method
    req.identity_checked_by = actor.name
    req.identity_checked_at = utcnow()
    req.identity_note = (
        service.identity_vault(settings).encrypt_json({"note": note.strip()})
        if note and note.strip()
        else None
    )
    req.verification_level = max(req.verification_level, req.required_level)
    service.move(
        session,
        req,
        Status.VERIFIED,
        actor=actor.name,
        detail={"identity_method": method, "note": bool(req.identity_note)},
    )
    _route(session, settings, req)


def record_identity_check(
    session: Session,
    settings: Settings,
    *,
    request_id: str,
    actor: Actor,
    method: str,
    note: str | None = None,
) -> RightsRequest:
    """Staff record how they checked the identity of someone who wrote or called, later than
    the request was entered; the request is verified by them and moves on."""
    require(actor, Permission.REQUESTS_SUBMIT)
    req = service.access_request(session, request_id)
    if req.status not in (Status.RECEIVED.value, Status.VERIFYING.value):
        raise ConflictError("This request's identity check is already settled.")
    _verified(session, settings, req, actor=actor, method=method, note=note)
    return req


def identity_note(settings: Settings, req: RightsRequest) -> str | None:
    """Staff's note on the identity check (sealed; staff who read personal data see it)."""
    if not req.identity_note:
        return None
    value: dict[str, str] = service.identity_vault(settings).decrypt_json(req.identity_note)
    return value.get("note")


def carry_out_by_hand(
    session: Session, settings: Settings, *, request_id: str, actor: Actor, note: str
) -> RightsRequest:
    """Staff record that they carried out, by hand, a request from someone without an e-mail
    address (Rightful's own execution finds records by e-mail); the letter says what was done."""
    require(actor, Permission.REQUESTS_DECIDE)
    req = service.access_request(session, request_id)
    if (extra := kind_of(req.request_type).approve_permission) is not None:
        require(actor, extra)
    if req.reply_by != "post" or req.status != Status.AWAITING_APPROVAL.value:
        raise ConflictError("Only a request by post waiting for staff is carried out by hand.")
    if len(note.strip()) < 10:
        raise _field_error("note", "Write what was done, in a sentence.")
    service.move(session, req, Status.EXECUTING, actor=actor.name)
    service.move(session, req, Status.COMPLETED, actor=actor.name, reason=note.strip())
    service.notify_consumer(session, settings, req, "done_manually", {"note": note.strip()})
    return req


@dataclass(frozen=True)
class PrintedLetter:
    """An e-mail about a request, laid out to print and post: who it goes to and the text."""

    letter: Letter
    reference: str
    recipient: str
    address: str
    by_post: bool


def printable_letter(
    session: Session, settings: Settings, *, actor: Actor, request_id: str, message_id: int
) -> PrintedLetter:
    """One of a request's e-mails (its acknowledgement, its outcome) as a letter to post: the
    very text the outbox holds, built from what happened. A letter never e-mailed (the person
    has no address) is shown whole, since staff post it; an e-mailed one as the outbox shows
    it. Recorded as a read of personal data."""
    require(actor, Permission.OUTBOX_READ)
    require(actor, Permission.REQUESTS_READ_PERSONAL)
    req = service.access_request(session, request_id)
    msg = session.get(OutboxMessage, message_id)
    if msg is None or msg.request_id != req.id:
        raise NotFoundError("There is no such letter for this request.")
    by_post = msg.status == "by_post"
    letter = open_letter(settings, msg) if by_post else staff_view(settings, msg)
    identities = service.identities_of(settings, req)
    own = service.requester_of(settings, req)
    audit.record(
        session,
        actor=actor.name,
        action="staff.read_personal",
        subject_type="rights_request",
        subject_id=req.id,
        detail={"what": "letter", "message": msg.id},
    )
    return PrintedLetter(
        letter=letter,
        reference=req.reference,
        recipient=own.get("name") or identities.get("name", ""),
        address=identities.get("postal_address", ""),
        by_post=by_post,
    )
