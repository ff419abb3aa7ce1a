"""Requests filed for someone else: an authorized agent for a consumer, a parent or guardian
for their child.

The filer's own e-mail gets the code and every e-mail; the consumer's (the child's) identities
are what execution uses. An agent sends the consumer's signed permission or a power of
attorney (one is needed; a power of attorney is accepted, never demanded). Staff may ask the
consumer to confirm an agent's request directly, and the request waits for the answer, except
for opting out of sale or sharing and limiting sensitive data, where the law forbids requiring
it (CCPA regulations § 7026(d), § 7027). A parent attests the relation and, when the company's
policy says so (RIGHTFUL_PARENT_EVIDENCE), uploads evidence of it.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from rightful.core.clock import utcnow
from rightful.core.config import Settings
from rightful.core.errors import ConflictError, InvalidInputError
from rightful.messaging.service import queue_email
from rightful.rights import documents, flows, service
from rightful.rights.intake import Upload
from rightful.rights.kinds import kind_of
from rightful.rights.models import RightsRequest
from rightful.rights.schemas import RequestIn
from rightful.rights.types import OPEN, Status
from rightful.security import audit
from rightful.security.permissions import Actor, Permission, require
from rightful.security.tokens import LinkSigner

CONFIRM_LINK_SECONDS = 30 * 86400
NO_DIRECT_CONFIRMATION = (
    "The law does not let us require the consumer to confirm an agent's request to opt out "
    "of sale or sharing or to limit the use of sensitive information "
    "(CCPA regulations § 7026(d) and § 7027): check the agent's signed permission instead."
)
ROLE_LABELS = {
    "self": "the person themself",
    "agent": "an authorized agent",
    "parent": "a parent or guardian for a child",
}


def _missing(field: str, message: str) -> dict[str, str]:
    return {"field": field, "message": message}


def _required_documents(
    settings: Settings, data: RequestIn, uploads: dict[str, Upload]
) -> list[dict[str, str]]:
    if data.requester_role == "agent" and not (
        uploads.get("agent_permission") or uploads.get("power_of_attorney")
    ):
        return [
            _missing(
                "agent_permission",
                "Upload the consumer's signed permission for you to act for them "
                "(or a power of attorney, if you hold one).",
            )
        ]
    if (
        data.requester_role == "parent"
        and settings.parent_evidence == "required"
        and not uploads.get("parent_evidence")
    ):
        return [
            _missing(
                "parent_evidence",
                "Upload a document that shows you are the child's parent or legal guardian.",
            )
        ]
    return []


def submit(
    session: Session,
    settings: Settings,
    data: RequestIn,
    *,
    uploads: dict[str, Upload],
    client: str | None,
) -> RightsRequest:
    """File a request from the privacy center, for oneself or, with the documents that go
    with it, as an agent or a parent (InvalidInputError naming each missing or bad field)."""
    wanted = {
        "self": (),
        "agent": ("agent_permission", "power_of_attorney"),
        "parent": ("parent_evidence",),
    }[data.requester_role]
    uploads = {k: v for k, v in uploads.items() if k in wanted and v.content}
    if errors := _required_documents(settings, data, uploads):
        raise InvalidInputError("Some details need attention.", errors=errors)
    req = flows.submit(session, settings, data, client=client)
    for kind, upload in uploads.items():
        try:
            documents.store(
                session,
                settings,
                kind=kind,
                filename=upload.filename,
                content_type=upload.content_type,
                content=upload.content,
                uploaded_by=data.requester_role,
                request_id=req.id,
            )
        except InvalidInputError as exc:
            raise InvalidInputError(exc.detail, errors=[_missing(kind, exc.detail)]) from None
    return req


def confirm_signer(settings: Settings) -> LinkSigner:
    """Signs the link a consumer follows to confirm or refuse an agent's request."""
    return LinkSigner(settings.secret_key, "agent-confirm")


def confirm_url(settings: Settings, request_id: str) -> str:
    """The consumer's link to confirm an agent's request."""
    return f"{settings.base_url}/confirm-agent/{confirm_signer(settings).sign(request_id)}"


def ask_consumer(
    session: Session, settings: Settings, *, request_id: str, actor: Actor
) -> RightsRequest:
    """Ask the consumer directly whether they gave the agent permission: an e-mail to the
    consumer with a signed link; the request waits for their answer."""
    require(actor, Permission.REQUESTS_DECIDE)
    req = service.access_request(session, request_id)
    if req.requester_role != "agent":
        raise ConflictError("Only a request an authorized agent filed can be confirmed this way.")
    if not kind_of(req.request_type).direct_confirmation:
        raise ConflictError(NO_DIRECT_CONFIRMATION)
    if Status(req.status) not in OPEN:
        raise ConflictError("This request is closed.")
    if req.consumer_confirmation != "not_asked":
        raise ConflictError("The consumer has already been asked.")
    consumer = service.identities_of(settings, req).get("email")
    if not consumer:
        raise ConflictError("The consumer's e-mail address is not known: write to them instead.")
    req.consumer_confirmation = "asked"
    session.flush()
    queue_email(
        session,
        settings,
        to=consumer,
        template="confirm_with_consumer",
        request_id=req.id,
        language=req.language,
        context={
            "reference": req.reference,
            "type_label": kind_of(req.request_type).label,
            "agent_name": service.requester_of(settings, req).get("name", ""),
            "confirm_url": confirm_url(settings, req.id),
        },
    )
    audit.record(
        session,
        actor=actor.name,
        action="request.consumer_asked",
        subject_type="rights_request",
        subject_id=req.id,
    )
    return req


def request_to_confirm(session: Session, settings: Settings, *, token: str) -> RightsRequest:
    """The request a consumer's confirmation link names (VerificationError for a bad link)."""
    request_id = confirm_signer(settings).unsign(token, max_age_seconds=CONFIRM_LINK_SECONDS)
    return service.access_request(session, request_id)


def answer(session: Session, settings: Settings, *, token: str, confirmed: bool) -> RightsRequest:
    """The consumer confirms the agent's request (it waits for staff approval as before) or
    refuses it (it closes, and the agent is told); once answered, the answer stands."""
    req = request_to_confirm(session, settings, token=token)
    if req.consumer_confirmation != "asked":
        return req  # answered already, or never asked: nothing changes
    req.consumer_confirmation = "confirmed" if confirmed else "refused"
    session.flush()
    audit.record(
        session,
        actor="consumer",
        action="request.consumer_confirmed" if confirmed else "request.consumer_refused",
        subject_type="rights_request",
        subject_id=req.id,
    )
    if not confirmed and Status(req.status) in OPEN:
        reason = (
            "The person the request was for told us they did not give permission for it. "
            "Nothing has been done."
        )
        service.move(session, req, Status.DENIED, actor="consumer", reason="consumer_refused")
        req.denial_reason = reason
        service.notify_consumer(session, settings, req, "denied", {"reason": reason})
    return req


def record_permission_check(
    session: Session,
    settings: Settings,
    *,
    request_id: str,
    actor: Actor,
    valid: bool,
) -> RightsRequest:
    """Staff record that they checked the agent's permission or the parent's evidence, and
    whether it holds."""
    require(actor, Permission.REQUESTS_DECIDE)
    req = service.access_request(session, request_id)
    if req.requester_role == "self":
        raise ConflictError("This person filed for themself: there is no permission to check.")
    req.permission_checked_by = actor.name if valid else None
    req.permission_checked_at = utcnow() if valid else None
    session.flush()
    audit.record(
        session,
        actor=actor.name,
        action="request.permission_checked",
        subject_type="rights_request",
        subject_id=req.id,
        detail={"valid": valid},
    )
    return req
