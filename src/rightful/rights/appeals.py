"""Appeals: a person asks us to look again at a denial or a partial answer, where their law
grants it. An appeal is a case with its own clock (the law's days to answer), decided by
someone other than whoever made the first decision, with a written outcome e-mailed to the
person; an upheld decision names the regulator as the law requires, and a reversed one reopens
the request so it can be carried out.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from rightful.core import i18n
from rightful.core.clock import utcnow
from rightful.core.config import Settings
from rightful.core.errors import ConflictError, InvalidInputError, NotFoundError
from rightful.laws import appeal_answer_extended_due, local_date, rules_for
from rightful.rights import service
from rightful.rights.appeal_terms import (
    APPEAL_LINK_SECONDS,
    APPEALABLE,
    Terms,
    answer_due,
    appeal_signer,
    terms_for,
)
from rightful.rights.clock_models import Appeal
from rightful.rights.models import RightsRequest
from rightful.rights.types import Status
from rightful.security import audit
from rightful.security.models import AuditEvent
from rightful.security.permissions import Actor, Permission, require
from rightful.security.vault import Vault

OUTCOMES = {
    "upheld": "Upheld: the first decision stands",
    "reversed": "Reversed: the request will be carried out",
    "partly": "Partly reversed: part of the request will be carried out",
}
# Who made the first decision: whoever denied it, or approved what was then partly done.
FIRST_DECISIONS = ("request.denied", "request.executing", "request.first_approval")
MIN_REASON, MAX_REASON = 10, 5000


def appeal_vault(settings: Settings) -> Vault:
    """The vault sealing what people write in appeals and the written outcomes."""
    return Vault(settings, "appeals")


@dataclass(frozen=True)
class AppealPage:
    """What the person's appeal page shows: never their data, only the request's state."""

    reference: str
    type: str
    language: str
    terms: Terms | None
    closed_on: date | None  # the window's last day once it has passed
    filed: Appeal | None


def _request_for(session: Session, settings: Settings, token: str) -> RightsRequest:
    request_id = appeal_signer(settings).unsign(token, max_age_seconds=APPEAL_LINK_SECONDS)
    return service.access_request(session, request_id)


def appeal_of(session: Session, request_id: str) -> Appeal | None:
    """A request's appeal, if the person filed one (no personal data is opened)."""
    return session.scalar(select(Appeal).where(Appeal.request_id == request_id))


_existing = appeal_of


def appeal_page(session: Session, settings: Settings, *, token: str) -> AppealPage:
    """The state of a request's appeal as the signed link's holder may see it."""
    req = _request_for(session, settings, token)
    terms = terms_for(settings, req) if req.status in APPEALABLE else None
    past = terms is not None and local_date(utcnow(), req.jurisdiction) > terms.window_ends
    return AppealPage(
        reference=req.reference,
        type=req.request_type,
        language=req.language,
        terms=terms,
        closed_on=terms.window_ends if terms is not None and past else None,
        filed=_existing(session, req.id),
    )


def file_appeal(session: Session, settings: Settings, *, token: str, reason: str) -> Appeal:
    """Record a person's appeal, within their law's window, and confirm it to them by e-mail."""
    req = _request_for(session, settings, token)
    if (filed := _existing(session, req.id)) is not None:
        return filed  # sent twice (a double click): the one appeal stands
    terms = terms_for(settings, req) if req.status in APPEALABLE else None
    if terms is None:
        raise ConflictError("This decision cannot be appealed.")
    now = utcnow()
    if local_date(now, req.jurisdiction) > terms.window_ends:
        raise ConflictError(
            i18n.translate(
                req.language,
                "The time to appeal this decision ended on %(date)s.",
            )
            % {"date": i18n.format_date(terms.window_ends, req.language)}
        )
    text = reason.strip()
    if not MIN_REASON <= len(text) <= MAX_REASON:
        raise InvalidInputError(
            "Tell us why you disagree with our decision.",
            errors=[{"field": "reason", "message": "Write why, in a sentence or more."}],
        )
    appeal = Appeal(
        id=uuid.uuid4().hex,
        request_id=req.id,
        status="open",
        reason=appeal_vault(settings).encrypt_json(text),
        received_at=now,
        due=answer_due(req, now, settings),
    )
    session.add(appeal)
    session.flush()
    audit.record(
        session,
        actor="consumer",
        action="appeal.received",
        subject_type="rights_request",
        subject_id=req.id,
        detail={"appeal": appeal.id, "due": appeal.due.isoformat()},
    )
    service.notify_consumer(
        session,
        settings,
        req,
        "appeal_received",
        {"appeal_due": i18n.format_date(appeal.due, req.language or i18n.DEFAULT)},
    )
    return appeal


# --- staff ------------------------------------------------------------------------------------


def list_appeals(
    session: Session, *, actor: Actor, status: str | None = None
) -> list[tuple[Appeal, RightsRequest]]:
    """The appeals queue: open first, soonest due first (no personal data)."""
    require(actor, Permission.REQUESTS_VIEW)
    stmt = (
        select(Appeal, RightsRequest)
        .join(RightsRequest, RightsRequest.id == Appeal.request_id)
        .order_by(Appeal.status.desc(), Appeal.due, Appeal.received_at)
    )
    if status:
        stmt = stmt.where(Appeal.status == status)
    return [(a, r) for a, r in session.execute(stmt)]


def access_appeal(session: Session, *, actor: Actor, appeal_id: str) -> Appeal:
    """One appeal by id, or the appeal of a request (by its id or reference)."""
    require(actor, Permission.REQUESTS_VIEW)
    appeal = session.get(Appeal, appeal_id) if appeal_id else None
    if appeal is None:
        try:
            req = service.access_request(session, appeal_id)
        except NotFoundError:
            req = None
        appeal = _existing(session, req.id) if req is not None else None
    if appeal is None:
        raise NotFoundError("There is no such appeal.")
    return appeal


def read_appeal_text(
    session: Session, settings: Settings, *, actor: Actor, appeal: Appeal
) -> dict[str, str | None]:
    """What the person wrote and the written outcome, opened for staff: recorded as a read."""
    require(actor, Permission.REQUESTS_READ_PERSONAL)
    audit.record(
        session,
        actor=actor.name,
        action="staff.read_personal",
        subject_type="rights_request",
        subject_id=appeal.request_id,
        detail={"what": "appeal"},
    )
    vault = appeal_vault(settings)
    return {
        "reason": str(vault.decrypt_json(appeal.reason)),
        "outcome": str(vault.decrypt_json(appeal.written_outcome))
        if appeal.written_outcome
        else None,
    }


def first_deciders(session: Session, request_id: str) -> set[str]:
    """Who made the decision under appeal, from the audit trail."""
    stmt = select(AuditEvent.actor).where(
        AuditEvent.subject_type == "rights_request",
        AuditEvent.subject_id == request_id,
        AuditEvent.action.in_(FIRST_DECISIONS),
    )
    return set(session.scalars(stmt))


def decide_appeal(
    session: Session,
    settings: Settings,
    *,
    appeal_id: str,
    actor: Actor,
    outcome: str,
    explanation: str,
) -> Appeal:
    """Decide an appeal and write to the person; a reversal (whole or part) reopens the
    request for approval and execution. Never by whoever made the first decision."""
    require(actor, Permission.REQUESTS_DECIDE)
    appeal = access_appeal(session, actor=actor, appeal_id=appeal_id)
    req = service.access_request(session, appeal.request_id)
    if appeal.status != "open":
        raise ConflictError("This appeal has already been decided.")
    if actor.name in first_deciders(session, req.id):
        raise ConflictError(
            "You made the decision under appeal; someone else must decide the appeal."
        )
    if outcome not in OUTCOMES:
        raise InvalidInputError(
            "Choose the outcome of the appeal.",
            errors=[{"field": "outcome", "message": "Choose upheld, reversed or partly."}],
        )
    text = explanation.strip()
    if len(text) < 20:
        raise InvalidInputError(
            "Write the outcome to the person in full: it is e-mailed to them.",
            errors=[{"field": "explanation", "message": "Explain the decision in full."}],
        )
    if outcome != "upheld" and req.verification_level < req.required_level:
        raise ConflictError(
            "This person's identity was never verified, so the request cannot be carried out: "
            "uphold the decision and explain how to make a new request."
        )
    appeal.status, appeal.outcome = "decided", outcome
    appeal.decided_by, appeal.decided_at = actor.name, utcnow()
    appeal.written_outcome = appeal_vault(settings).encrypt_json(text)
    session.flush()
    audit.record(
        session,
        actor=actor.name,
        action="appeal.decided",
        subject_type="rights_request",
        subject_id=req.id,
        detail={"appeal": appeal.id, "outcome": outcome},
    )
    _tell(session, settings, req, appeal, text)
    if outcome != "upheld":
        _reopen(session, req, appeal, actor)
    return appeal


def may_extend(settings: Settings, req: RightsRequest, appeal: Appeal) -> date | None:
    """The date an open, unextended appeal would move to under the law's one extension (the
    rules mode counts); None when the law allows none or it was extended already."""
    if appeal.status != "open" or appeal.extended_at is not None:
        return None
    return appeal_answer_extended_due(appeal.received_at, req.jurisdiction, settings.rules_mode)


def extend_appeal(
    session: Session, settings: Settings, *, appeal_id: str, actor: Actor, reason: str
) -> Appeal:
    """Take the extra time to answer an appeal that some laws allow (Colorado: 60 more days,
    C.R.S. 6-1-1306(3)): once, with reasons, and only while the first period runs, since the
    person must be told inside it. The person is e-mailed the reasons and the new date."""
    require(actor, Permission.REQUESTS_DECIDE)
    appeal = access_appeal(session, actor=actor, appeal_id=appeal_id)
    req = service.access_request(session, appeal.request_id)
    if appeal.status != "open":
        raise ConflictError("This appeal has already been decided.")
    if appeal.extended_at is not None:
        raise ConflictError("This appeal was extended already; the law allows it once.")
    new_due = may_extend(settings, req, appeal)
    if new_due is None:
        rules = rules_for(req.jurisdiction, settings.rules_mode)
        raise ConflictError(
            f"The {rules.short} allows no extension of the time to answer an appeal "
            f"({rules.appeal.cite})."
        )
    if local_date(utcnow(), req.jurisdiction) > appeal.due:
        raise ConflictError(
            f"The time to answer ended on {appeal.due.isoformat()}. The law allows an extension "
            "only with notice to the person inside it, so decide the appeal now."
        )
    text = reason.strip()
    if len(text) < 20:
        raise InvalidInputError(
            "Give the reasons for the delay: they are e-mailed to the person.",
            errors=[{"field": "reason", "message": "Explain why more time is needed."}],
        )
    appeal.extended_at, appeal.extended_by = utcnow(), actor.name
    appeal.extension_reason, appeal.due = text, new_due
    session.flush()
    audit.record(
        session,
        actor=actor.name,
        action="appeal.extended",
        subject_type="rights_request",
        subject_id=req.id,
        detail={"appeal": appeal.id, "due": new_due.isoformat()},
    )
    service.notify_consumer(
        session,
        settings,
        req,
        "appeal_extended",
        {"reason": text, "appeal_due": i18n.format_date(new_due, req.language or i18n.DEFAULT)},
    )
    return appeal


def _tell(
    session: Session, settings: Settings, req: RightsRequest, appeal: Appeal, text: str
) -> None:
    terms = terms_for(settings, req)
    regulator = terms.regulator if terms is not None else None
    names_regulator = appeal.outcome != "reversed" and regulator is not None
    service.notify_consumer(
        session,
        settings,
        req,
        "appeal_decided",
        {
            "outcome": appeal.outcome,
            "explanation": text,
            "regulator": (
                {
                    "name": regulator.name,
                    "url": regulator.url,
                    "email": regulator.email,
                    "phone": regulator.phone,
                }
                if names_regulator and regulator is not None
                else None
            ),
        },
    )


def _reopen(session: Session, req: RightsRequest, appeal: Appeal, actor: Actor) -> None:
    # Back to approval through the one audited choke point (rights/types.py REOPENED_BY_APPEAL):
    # an approver then runs it as any other request. It is open again, so its response clock
    # runs again, to the appeal's answer date at the earliest.
    service.move(
        session,
        req,
        Status.AWAITING_APPROVAL,
        actor=actor.name,
        reason="appeal_reversed" if appeal.outcome == "reversed" else "appeal_partly_reversed",
        detail={"appeal": appeal.id},
    )
    req.closed_at = None
    req.respond_due = max(req.respond_due, appeal.due)
    session.flush()
