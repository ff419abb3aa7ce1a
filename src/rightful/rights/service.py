"""Every state change of a rights request, each writing its audit event."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import case, insert, select
from sqlalchemy.orm import Session

from rightful import laws
from rightful.core import i18n
from rightful.core.clock import utcnow
from rightful.core.config import Settings
from rightful.core.errors import ConflictError, InvalidInputError, NotFoundError
from rightful.core.i18n import N_
from rightful.identity.points import configured_points
from rightful.messaging.service import queue_emails, queue_letter
from rightful.rights import appeal_terms, due
from rightful.rights.declaration import declaration_for, needed
from rightful.rights.denial_basis import parse_basis
from rightful.rights.kinds import Route, kind_of
from rightful.rights.models import RightsRequest
from rightful.rights.schemas import RequestIn
from rightful.rights.transfer_intake import open_transfer
from rightful.rights.types import OPEN, STATUS_LABELS, TRANSITIONS, Status
from rightful.security import audit
from rightful.security.permissions import Actor, Permission, require
from rightful.security.tokens import LinkSigner
from rightful.security.vault import Vault, keyed_hash

EARLIEST = date(2022, 1, 1)
STATUS_LINK_SECONDS = 400 * 86400
_REF_ALPHABET = "ACDEFGHJKMNPQRTUVWXY3479"


def identity_vault(settings: Settings) -> Vault:
    """The vault sealing requesters' identities."""
    return Vault(settings, "identities")


def status_signer(settings: Settings) -> LinkSigner:
    """Signs links to a request's status page."""
    return LinkSigner(settings.secret_key, "status")


def package_signer(settings: Settings) -> LinkSigner:
    """Signs links to download a package."""
    return LinkSigner(settings.secret_key, "package")


def status_url(settings: Settings, request_id: str) -> str:
    """The consumer's status page link."""
    return f"{settings.base_url}/status/{status_signer(settings).sign(request_id)}"


def identities_of(settings: Settings, req: RightsRequest) -> dict[str, str]:
    """The decrypted identities (only inside execution, e-mail and staff views)."""
    value: dict[str, str] = identity_vault(settings).decrypt_json(req.identities)
    return value


def requester_of(settings: Settings, req: RightsRequest) -> dict[str, str]:
    """An agent's or parent's own name and e-mail (and a parent's attestation); {} for self."""
    if not req.requester:
        return {}
    value: dict[str, str] = identity_vault(settings).decrypt_json(req.requester)
    return value


def reply_address(settings: Settings, req: RightsRequest) -> str | None:
    """Where e-mails about a request go: an agent's or parent's own address when they gave
    one, else the person's; None when there is none (letters are printed and posted)."""
    own = requester_of(settings, req).get("email")
    return own or identities_of(settings, req).get("email")


def notify_consumer(
    session: Session,
    settings: Settings,
    req: RightsRequest,
    template: str,
    context: dict[str, Any] | None = None,
) -> None:
    """E-mail the requester at their verified address, in the language they asked in; the
    request's basics are always there. A request from a platform (DROP: `reply_by` "none")
    has no one to write to, so nothing is sent."""
    letter = _letter(settings, req, template, context)
    if letter is None:
        return
    queue_letter(session, settings, **letter)  # nothing read back: it rides (messaging)


def notify_consumers(
    session: Session,
    settings: Settings,
    letters: Sequence[tuple[RightsRequest, str, dict[str, Any] | None]],
) -> int:
    """`notify_consumer` for many requests (each: request, template, context), the outbox's
    rows in one multi-row INSERT. Returns how many were queued."""
    found = (_letter(settings, req, template, context) for req, template, context in letters)
    return queue_emails(session, settings, [x for x in found if x is not None])


def _letter(
    settings: Settings, req: RightsRequest, template: str, context: dict[str, Any] | None
) -> dict[str, Any] | None:
    """What `queue_letter` is given for a request's e-mail, and the status it is kept with
    (None: the usual one); None when there is no one to write to."""
    if req.reply_by == "none":
        return None
    language = req.language or i18n.DEFAULT
    base = {
        "reference": req.reference,
        "type_label": kind_of(req.request_type).label,
        "respond_due": i18n.format_date(req.respond_due, language),
        "status_url": status_url(settings, req.id),
        # How to appeal a denial or partial answer, where the person's law grants an appeal.
        "appeal": appeal_terms.offer(settings, req),
    }
    to = reply_address(settings, req)
    return {
        "to": to or "post",
        "template": template,
        "request_id": req.id,
        "context": {**base, **(context or {})},
        "language": language,
        "sent": to is not None,
        # Never sent: staff print it from the console and post it.
        "status": None if to is not None else "by_post",
    }


def move(
    session: Session,
    req: RightsRequest,
    to: Status,
    *,
    actor: str,
    reason: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """The single place a status changes; refuses moves the lifecycle does not allow."""
    move_many(session, [(req, to, detail)], actor=actor, reason=reason)


def move_many(
    session: Session,
    moves: Sequence[tuple[RightsRequest, Status, dict[str, Any] | None]],
    *,
    actor: str,
    reason: str | None = None,
) -> None:
    """`move` for many requests at once (each: request, status, detail; a request once):
    every move checked before any is made, each audited exactly as alone, the events appended
    together."""
    for req, to, _ in moves:
        current = Status(req.status)
        if to not in TRANSITIONS[current]:
            raise ConflictError(
                f"A request that is '{STATUS_LABELS[current]}' cannot become '{STATUS_LABELS[to]}'."
            )
    events = []
    for req, to, detail in moves:
        current = Status(req.status)
        req.status = to.value
        if to in (Status.COMPLETED, Status.PARTIALLY_COMPLETED, Status.DENIED, Status.WITHDRAWN):
            req.closed_at = utcnow()
        events.append(
            {
                "actor": actor,
                "action": f"request.{to.value}",
                "subject_type": "rights_request",
                "subject_id": req.id,
                "detail": {
                    "from": current.value,
                    **({"reason": reason} if reason else {}),
                    **(detail or {}),
                },
            }
        )
    # No flush: the next read or the commit writes the rows, once for moves made in a row.
    audit.record_many(session, events)


def _identities(settings: Settings, data: RequestIn) -> dict[str, str]:
    # RequestIn already put e-mail, phone, name and ZIP in their normal forms.
    found = {"email": data.email} if data.email else {}
    for key in ("phone_number", "name", "postal_code", "postal_address"):
        if value := getattr(data, key):
            found[key] = value
    if data.by_agent and data.agent_name:  # never a data point: it names the agent, not the person
        found["agent_name"] = data.agent_name
    known = {p.key for p in configured_points(settings)}
    errors = [
        {"field": key, "message": "We do not ask for this detail."}
        for key in data.other_points
        if key not in known or key in found
    ]
    if errors:
        raise InvalidInputError("Some details are not ones we ask for.", errors=errors)
    found.update({k: v.strip()[:200] for k, v in data.other_points.items() if v.strip()})
    found.update(kind_of(data.request_type).read_details(data))
    return found


def _check_declaration(settings: Settings, data: RequestIn) -> bool:
    """Whether the request needs the signed declaration (the law's rule, rights/declaration.py);
    an error asking for it when it does and was not signed."""
    if not needed(settings, data.request_type.value, data.jurisdiction):
        return False
    if not data.declaration_signature:
        raise InvalidInputError(
            N_("To receive specific pieces of information, sign the declaration."),
            errors=[
                {
                    "field": "declaration_signature",
                    "message": N_("Type your full name to sign the declaration."),
                }
            ],
        )
    return True


def _requester(settings: Settings, data: RequestIn) -> dict[str, Any]:
    # An agent's or parent's own details, sealed apart from the person's identities.
    if data.requester_role == "self":
        return {"requester_role": "self"}
    own = {"name": data.requester_name or "", "email": data.requester_email or ""}
    if data.requester_role == "parent":
        own["attestation"] = (
            f"I am the parent or legal guardian of {data.name} and may act for them."
        )
    return {
        "requester_role": data.requester_role,
        "requester": identity_vault(settings).encrypt_json({k: v for k, v in own.items() if v}),
    }


def create_request(
    session: Session,
    settings: Settings,
    data: RequestIn,
    *,
    actor: str = "consumer",
    received_at: datetime | None = None,
) -> RightsRequest:
    """Record a new request with its deadlines (from `received_at` for a letter or a call
    staff enter later, else now); no e-mail yet."""
    identities = _identities(settings, data)
    # A signature is kept only where a declaration is asked: nobody signs one under a law
    # that does not ask for it (the GDPR), so a name typed there is not stored as signed.
    signed = _check_declaration(settings, data) and bool(data.declaration_signature)
    now = received_at or utcnow()
    kind = kind_of(data.request_type)
    place = laws.parse(data.jurisdiction)
    jurisdiction, mode = place.code, settings.rules_mode
    # A right the person's law does not grant is honoured voluntarily (recorded so), or
    # refused naming the law when the organisation honours only what each law grants.
    by_law = laws.granted_by_law(kind.type.value, place, mode=mode, scope=settings.rights_scope)
    today = laws.local_date(now, place)
    req = RightsRequest(
        id=uuid.uuid4().hex,
        reference="R-" + "".join(secrets.choice(_REF_ALPHABET) for _ in range(8)),
        request_type=kind.type.value,
        status=Status.RECEIVED.value,
        channel=data.channel,
        language=data.language,
        jurisdiction=jurisdiction,
        by_agent=data.by_agent or data.requester_role == "agent",
        **_requester(settings, data),
        reply_by="email" if "email" in identities or data.requester_email else "post",
        date_from=EARLIEST
        if data.date_range == "all"
        else max(EARLIEST, today - timedelta(days=365)),
        date_to=today,
        identities=identity_vault(settings).encrypt_json(identities),
        email_hash=keyed_hash(settings.secret_key, "email", identities["email"])
        if "email" in identities
        else "",
        required_level=kind.verification_level,
        # Set here, not left to column defaults: the row is read before its first flush.
        verification_level=0,
        consumer_confirmation="not_asked",
        summary={},
        updated_at=utcnow(),
        # The text the person read and signed: it cites their own state's law.
        declaration=declaration_for(jurisdiction, data.language) if signed else None,
        declaration_signed_at=now if signed else None,
        received_at=now,
        acknowledge_due=laws.acknowledge_due(now, place, mode),
        respond_due=laws.answer_due(kind.type.value, now, place, mode),
    )
    # Not flushed: the id is made here, and the row goes in with the first status it leaves
    # with (submit moves it on before anything is read), in one INSERT instead of two writes.
    session.add(req)
    audit.record(
        session,
        actor=actor,
        action="request.received",
        subject_type="rights_request",
        subject_id=req.id,
        detail={
            "type": kind.type.value,
            "channel": data.channel,
            "by_agent": data.by_agent or data.requester_role == "agent",
            "requester_role": data.requester_role,
            "signed_declaration": signed,
            "jurisdiction": jurisdiction,
            "rules": laws.rules_for(place, mode).label,
            "granted_by_law": by_law,
        },
    )
    # Another organisation to send a portable copy to: sealed, and sent only once confirmed.
    open_transfer(
        session, settings, req, to=data.transfer_to, name=data.transfer_recipient, actor=actor
    )
    return req


def acknowledge(
    session: Session, settings: Settings, req: RightsRequest, *, code: str | None
) -> None:
    """Queue the receipt e-mail (with the code when one is needed)."""
    notify_consumer(
        session,
        settings,
        req,
        "acknowledgement",
        {
            "code": code,
            "ttl": settings.code_ttl_minutes,
            "needs_verification": req.required_level > 0,
        },
    )
    audit.record(
        session,
        actor="system",
        action="request.acknowledged",
        subject_type="rights_request",
        subject_id=req.id,
    )


def route_verified(session: Session, settings: Settings, req: RightsRequest, *, actor: str) -> None:
    """After verification: wait for staff approval, or start at once, as the kind's route says
    (an opt-out of sale or sharing never waits: the law asks for it as soon as feasible)."""
    route = kind_of(req.request_type).route
    # An agent's or a parent's request waits for staff, who check the permission or relation.
    waits = settings.require_approval or req.requester_role != "self"
    if route is Route.APPROVAL or (route is Route.CONFIGURED and waits):
        move(session, req, Status.AWAITING_APPROVAL, actor=actor)
    else:
        move(session, req, Status.EXECUTING, actor=actor)


def access_request(session: Session, request_id: str) -> RightsRequest:
    """One request by id; NotFoundError otherwise."""
    req = session.get(RightsRequest, request_id) if request_id else None
    if req is None:
        req = session.scalar(select(RightsRequest).where(RightsRequest.reference == request_id))
    if req is None:
        raise NotFoundError("There is no such request.")
    return req


def list_requests(
    session: Session, *, status: str | None = None, limit: int = 200
) -> list[RightsRequest]:
    """Requests: open ones first, soonest due first among them; then closed ones the same way."""
    closed = case((RightsRequest.status.in_([s.value for s in OPEN]), 0), else_=1)
    stmt = select(RightsRequest).order_by(
        closed, RightsRequest.respond_due, RightsRequest.received_at
    )
    if status:
        stmt = stmt.where(RightsRequest.status == status)
    return list(session.scalars(stmt.limit(limit)))


def approve_request(
    session: Session, settings: Settings, *, request_id: str, actor: Actor
) -> RightsRequest:
    """Staff approve: execution starts off the web request. A deletion or correction needs
    erasure.approve as well; for the types in RIGHTFUL_SECOND_APPROVAL_TYPES, two people."""
    require(actor, Permission.REQUESTS_DECIDE)
    req = access_request(session, request_id)
    if (extra := kind_of(req.request_type).approve_permission) is not None:
        require(actor, extra)
    if req.consumer_confirmation in ("asked", "refused"):
        raise ConflictError(
            "The consumer was asked to confirm the agent's request and has not confirmed it."
        )
    if _agent_unproven(session, req):
        raise ConflictError(
            "The agent sent no permission from the consumer with this request (it came in a "
            "batch). Get it from the agent and record that you checked it, or ask the consumer "
            "to confirm directly, before approving."
        )
    if req.reply_by == "post" and kind_of(req.request_type).automated:
        raise ConflictError(
            "Rightful finds a person's records by e-mail address and this person gave none: "
            "carry the request out by hand and record what was done."
        )
    if (
        req.request_type in settings.second_approval_types
        and req.status == Status.AWAITING_APPROVAL
    ):
        approvals = list(req.summary.get("approvals", []))
        if actor.name in approvals:
            raise ConflictError("You approved this already; a second person must approve it.")
        if not approvals:
            req.summary = {**req.summary, "approvals": [actor.name]}
            session.flush()
            audit.record(
                session,
                actor=actor.name,
                action="request.first_approval",
                subject_type="rights_request",
                subject_id=req.id,
            )
            return req
        req.summary = {**req.summary, "approvals": [*approvals, actor.name]}
    move(session, req, Status.EXECUTING, actor=actor.name)
    return req


def _agent_unproven(session: Session, req: RightsRequest) -> bool:
    """An agent's request that came without the consumer's permission (bulk intake takes none,
    rights/bulk.py) and that nobody has yet checked or had the consumer confirm."""
    from rightful.rights.documents import listed  # documents sit beside, not below, this module

    if req.requester_role != "agent" or req.permission_checked_by is not None:
        return False
    if req.consumer_confirmation == "confirmed":
        return False
    return not listed(session, request_id=req.id)


def deny_request(
    session: Session,
    settings: Settings,
    *,
    request_id: str,
    actor: Actor,
    reason: str,
    basis: str | None = None,
) -> RightsRequest:
    """Staff close a request without action, telling the consumer why; `basis` is the group
    the yearly metrics count it in (rights/denial_basis.py; none: other grounds)."""
    require(actor, Permission.REQUESTS_DECIDE)
    grounds = parse_basis(basis)
    if len(reason.strip()) < 10:
        raise InvalidInputError(
            "Give the consumer a reason of at least a sentence.",
            errors=[{"field": "reason", "message": "Write the reason in full."}],
        )
    req = access_request(session, request_id)
    if "erasure" in req.summary or "corrected" in req.summary:
        raise ConflictError(
            "This request has already been carried out; it can no longer be denied."
        )
    move(
        session,
        req,
        Status.DENIED,
        actor=actor.name,
        reason=reason.strip(),
        detail={"basis": grounds.value},
    )
    req.denial_reason = reason.strip()
    notify_consumer(session, settings, req, "denied", {"reason": req.denial_reason})
    return req


def extend_request(
    session: Session, settings: Settings, *, request_id: str, actor: Actor, reason: str
) -> RightsRequest:
    """Use the one extension the law allows, with notice and reason to the consumer."""
    require(actor, Permission.REQUESTS_DECIDE)
    req = access_request(session, request_id)
    if req.extension_reason:
        raise ConflictError(
            "This request has already been extended once; the law allows one extension."
        )
    if Status(req.status) not in (
        Status.RECEIVED,
        Status.VERIFYING,
        Status.VERIFIED,
        Status.AWAITING_APPROVAL,
        Status.EXECUTING,
    ):
        raise ConflictError("Only open requests can be extended.")
    due.check_extension(req, utcnow(), settings.rules_mode)  # inside the first period only
    if len(reason.strip()) < 10:
        raise InvalidInputError(
            "Explain the extension to the consumer in a sentence.",
            errors=[{"field": "reason", "message": "Write the reason in full."}],
        )
    extended = laws.extended_due(
        req.received_at, req.jurisdiction, settings.rules_mode, kind=req.request_type
    )
    if extended <= req.respond_due:
        raise ConflictError("The law allows no extension for this request.")
    req.extension_reason = reason.strip()
    req.respond_due = extended
    session.flush()
    audit.record(
        session,
        actor=actor.name,
        action="request.extended",
        subject_type="rights_request",
        subject_id=req.id,
        detail={"reason": req.extension_reason, "respond_due": req.respond_due.isoformat()},
    )
    notify_consumer(session, settings, req, "extended", {"reason": req.extension_reason})
    return req


def complete_manually(
    session: Session, settings: Settings, *, request_id: str, actor: Actor, note: str
) -> RightsRequest:
    """Staff record that they carried out a request type Rightful does not automate yet."""
    require(actor, Permission.REQUESTS_DECIDE)
    req = access_request(session, request_id)
    if kind_of(req.request_type).automated:
        raise ConflictError("Rightful carries out this request itself once it is approved.")
    if len(note.strip()) < 10:
        raise InvalidInputError(
            "Tell the consumer what was done, in a sentence.",
            errors=[{"field": "note", "message": "Write what was done."}],
        )
    move(session, req, Status.COMPLETED, actor=actor.name, reason=note.strip())
    notify_consumer(session, settings, req, "done_manually", {"note": note.strip()})
    return req


def create_moved(
    session: Session,
    rows: list[dict[str, Any]],
    *,
    received_by: str,
    received_detail: dict[str, Any],
    moves: list[tuple[Status, str, str | None]],
) -> None:
    """Record many new requests (column values) and move each along `moves` (to, actor,
    reason) at once, for requests that arrive verified from a platform by the thousand (DROP):
    the path is checked against the lifecycle once, and the same audit events
    `create_request` and `move` write are appended, in two statements in all."""
    status, path = Status.RECEIVED, []
    for to, actor, reason in moves:
        if to not in TRANSITIONS[status]:
            raise ConflictError(
                f"A request that is '{STATUS_LABELS[status]}' cannot become '{STATUS_LABELS[to]}'."
            )
        path.append((status, to, actor, reason))
        status = to
    if not rows:
        return
    session.execute(insert(RightsRequest), [{**r, "status": status.value} for r in rows])
    audit.record_many(
        session,
        (
            event
            for r in rows
            for event in [
                {
                    "actor": received_by,
                    "action": "request.received",
                    "subject_type": "rights_request",
                    "subject_id": r["id"],
                    "detail": received_detail,
                },
                *(
                    {
                        "actor": actor,
                        "action": f"request.{to.value}",
                        "subject_type": "rights_request",
                        "subject_id": r["id"],
                        "detail": {"from": was.value, **({"reason": reason} if reason else {})},
                    }
                    for was, to, actor, reason in path
                ),
            ]
        ),
    )
