"""A case becomes a rights request: the person confirms what they want from the signed link
in the acknowledgement, or staff confirm it in the console. Either way the request is made by
the same submit as the web form's, on the sender's own address, so the person verifies it."""

from __future__ import annotations

from sqlalchemy.orm import Session

from rightful import laws
from rightful.casework import service
from rightful.casework.models import Case
from rightful.casework.types import Kind, Status
from rightful.core.config import Settings
from rightful.core.errors import ConflictError
from rightful.rights import declaration, flows
from rightful.rights.kinds import kind_of
from rightful.rights.models import RightsRequest
from rightful.rights.schemas import RequestIn
from rightful.security import audit
from rightful.security.permissions import Actor, Permission, require


def case_from_link(session: Session, settings: Settings, token: str) -> Case:
    """The case a confirmation link names (VerificationError when tampered or expired)."""
    case_id = service.confirm_signer(settings).unsign(
        token, max_age_seconds=service.CONFIRM_LINK_SECONDS
    )
    return service.access_case(session, case_id)


def confirm_request(
    session: Session,
    settings: Settings,
    case: Case,
    *,
    request_type: str,
    jurisdiction: str,
    signature: str | None,
    actor: str,
    client: str | None,
    language: str | None = None,
) -> RightsRequest:
    """Open the rights request the case asks for and close the case with it; the person gets
    the usual acknowledgement with a code to verify. `language` is the page's, where the
    person confirmed on a page: the declaration they signed is kept in it, and the request's
    e-mails follow it; otherwise the message's."""
    if case.request_id is not None:
        raise ConflictError("A request was already made from this message.")
    kind = kind_of(request_type)
    sender = service.sender_of(settings, case)
    if not sender.get("email"):
        raise ConflictError("This person gave no e-mail address: record the request at intake.")
    data = RequestIn.model_validate(
        {
            "request_type": kind.type.value,
            "channel": "email",
            "email": sender["email"],
            "name": sender.get("name") or None,
            "jurisdiction": jurisdiction,
            "language": language or case.language,
            **({"declaration_signature": signature} if signature else {}),
        }
    )
    req = flows.submit(session, settings, data, client=client, actor=actor)
    case.request_id, case.confirmed_type, case.outcome = req.id, kind.type.value, "request_opened"
    if case.kind != Kind.REQUEST.value:
        case.kind = Kind.REQUEST.value
    audit.record(
        session,
        actor=actor,
        action="case.request_opened",
        subject_type="case",
        subject_id=case.id,
        detail={"request": req.id, "type": kind.type.value},
    )
    service.move(session, case, Status.CLOSED, actor=actor, detail={"outcome": "request_opened"})
    return req


def confirm_by_staff(
    session: Session,
    settings: Settings,
    *,
    actor: Actor,
    case_id: str,
    request_type: str,
    jurisdiction: str,
) -> RightsRequest:
    """Staff confirm the type in the console; a request that needs the person's signed
    declaration where they live (rights/declaration.py) is left for the person to confirm
    from their link."""
    require(actor, Permission.REQUESTS_SUBMIT)
    case = service.access_case(session, case_id)
    kind_of(request_type)  # an unknown type is a field error before anything else
    if declaration.needed(settings, request_type, jurisdiction):
        raise ConflictError(
            f"In {laws.parse(jurisdiction).name} this type needs the person's own signed "
            "declaration: they confirm it from the link in our acknowledgement."
        )
    return confirm_request(
        session,
        settings,
        case,
        request_type=request_type,
        jurisdiction=jurisdiction,
        signature=None,
        actor=actor.name,
        client=None,
    )
