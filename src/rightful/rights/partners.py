"""Telling business partners to delete, and tracking their answers until every one is in.

A partner with an erasure webhook gets a signed POST (HMAC-SHA256 over timestamp and body, the
secret derived per partner from Rightful's key); one without gets an e-mail. Either way the
notice carries a signed link the partner uses to confirm. Failed sends are retried with
exponential backoff; unanswered notices get a reminder every few business days and are overdue
after ten. A request is complete only when every notice is confirmed or staff record why not.
"""

from __future__ import annotations

import json
import time
from datetime import timedelta

from sqlalchemy import case, insert, select, update
from sqlalchemy.orm import Session

from rightful import laws
from rightful.core import claims
from rightful.core.calendar import add_business_days
from rightful.core.clock import utcnow
from rightful.core.config import Settings
from rightful.core.errors import ConflictError, InvalidInputError, NotFoundError
from rightful.core.urls import webhook_problem
from rightful.inventory.models import Disclosure, Partner
from rightful.messaging.service import queue_emails
from rightful.rights import service
from rightful.rights.models import PartnerNotice, RightsRequest
from rightful.security import audit
from rightful.security.permissions import Actor, Permission, require
from rightful.security.signing import signature
from rightful.security.tokens import LinkSigner
from rightful.security.vault import keyed_hash

MAX_ATTEMPTS = 8
REMINDER_BUSINESS_DAYS = 3
ANSWER_BUSINESS_DAYS = 10
ACK_LINK_SECONDS = 180 * 86400
OPEN_STATUSES = ("pending", "sent", "failed")


def partner_secret(settings: Settings, partner_key: str) -> str:
    """The webhook signing secret shared with one partner (`rightful rights partner-secret`)."""
    return keyed_hash(settings.secret_key, "partner-webhook", partner_key)


def ack_url(settings: Settings, notice_id: int) -> str:
    """The signed link a partner uses to confirm the deletion."""
    token = LinkSigner(settings.secret_key, "partner-ack").sign(str(notice_id))
    return f"{settings.base_url}/partners/ack/{token}"


def notice_from_token(settings: Settings, token: str) -> int:
    """The notice id inside a valid confirmation link."""
    signer = LinkSigner(settings.secret_key, "partner-ack")
    return int(signer.unsign(token, max_age_seconds=ACK_LINK_SECONDS))


def open_notices(session: Session, settings: Settings, req: RightsRequest) -> list[PartnerNotice]:
    """One notice per partner that received personal data (once per request)."""
    return open_notices_for(session, [req])[req.id]


def disclosed_partners(session: Session) -> dict[str, Partner | None]:
    """The partners the data map discloses personal data to, by key (None: a disclosure to a
    partner not on file), in one read."""
    rows = session.execute(
        select(Disclosure.partner_key, Partner).outerjoin(
            Partner, Partner.key == Disclosure.partner_key
        )
    ).all()
    return {key: partner for key, partner in sorted(rows, key=lambda row: row[0])}


def open_notices_for(
    session: Session,
    reqs: list[RightsRequest],
    existing: dict[str, dict[str, PartnerNotice]] | None = None,
    disclosed: dict[str, Partner | None] | None = None,
) -> dict[str, list[PartnerNotice]]:
    """`open_notices` for many requests: one read of their notices (unless given: `existing`,
    from `notices_of`), one of the partners (unless given: `disclosed_partners`) and, when
    some are new, one insert of them all (read back by it on PostgreSQL, else by a second
    read). Each request's notices come oldest first."""
    ids = [r.id for r in reqs]
    existing = notices_of(session, ids) if existing is None else existing
    partners = disclosed_partners(session) if disclosed is None else disclosed
    new = []
    for req in reqs:
        today = laws.local_date(utcnow(), req.jurisdiction)
        for key, partner in partners.items():
            if key in existing[req.id] or partner is None:
                continue
            channel = (
                "webhook"
                if partner.erasure_webhook
                else "email"
                if partner.contact_email
                else "manual"
            )
            new.append(
                {
                    "request_id": req.id,
                    "partner_key": key,
                    "channel": channel,
                    "status": "failed" if channel == "manual" else "pending",
                    "last_error": "no webhook or e-mail address on file"
                    if channel == "manual"
                    else None,
                    "due": add_business_days(today, ANSWER_BUSINESS_DAYS),
                }
            )
    if new and session.get_bind().dialect.name == "postgresql":
        made = session.scalars(
            insert(PartnerNotice).returning(PartnerNotice, sort_by_parameter_order=True), new
        )
        for notice in made:  # after the request's older ones: in the order of their ids
            existing[notice.request_id][notice.partner_key] = notice
    elif new:
        session.execute(insert(PartnerNotice), new)
        existing = notices_of(session, ids)
    return {rid: list(mine.values()) for rid, mine in existing.items()}


def notices_of(session: Session, ids: list[str]) -> dict[str, dict[str, PartnerNotice]]:
    """Each request's notices by partner key, in one read."""
    found: dict[str, dict[str, PartnerNotice]] = {rid: {} for rid in ids}
    for notice in session.scalars(
        select(PartnerNotice).where(PartnerNotice.request_id.in_(ids)).order_by(PartnerNotice.id)
    ):
        found[notice.request_id][notice.partner_key] = notice
    return found


def unanswered(session: Session, request_id: str) -> list[PartnerNotice]:
    """Notices still waiting for a partner's answer or a staff decision."""
    return list(
        session.scalars(
            select(PartnerNotice).where(
                PartnerNotice.request_id == request_id, PartnerNotice.status.in_(OPEN_STATUSES)
            )
        )
    )


def _payload(
    settings: Settings, notice: PartnerNotice, req: RightsRequest, reminder: int
) -> dict[str, object]:
    return {
        "type": "erasure_request",
        "reference": req.reference,
        "identity": {"email": service.identities_of(settings, req)["email"]},
        "requested_at": req.received_at.isoformat(),
        "reminder": reminder,
        "acknowledge_url": ack_url(settings, notice.id),
    }


def _post(settings: Settings, url: str, partner_key: str, payload: dict[str, object]) -> bool:
    """POST a signed notice; True when the partner says it already deleted."""
    import httpx  # when first used: the server's start does not wait for it

    body = json.dumps(payload, sort_keys=True).encode()
    stamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "X-Rightful-Timestamp": stamp,
        "X-Rightful-Signature": signature(partner_secret(settings, partner_key), stamp, body),
    }
    response = httpx.post(
        url, content=body, headers=headers, timeout=settings.partner_timeout_seconds
    )
    response.raise_for_status()
    try:
        return bool(response.json().get("status") == "deleted")
    except ValueError:
        return False


def _send(
    session: Session,
    settings: Settings,
    notice: PartnerNotice,
    won: claims.Claim,
    req: RightsRequest,
    partner: Partner,
) -> None:
    """One due webhook notice or reminder, by the worker holding its claim; every outcome is
    written only while that claim holds, so a send taken over by another worker is recorded
    once."""
    import httpx

    reminder = notice.reminders + (1 if notice.status == "sent" else 0)
    payload = _payload(settings, notice, req, reminder)
    now = utcnow()
    # Checked again at send time: an address stored while plain http was allowed (demo
    # mode) must not receive a person's e-mail once it no longer is.
    url = str(partner.erasure_webhook)
    if webhook_problem(url, allow_http=settings.http_webhooks_allowed):
        _record(session, notice.id, won, status="failed", last_error="insecure address")
        return
    try:
        done = _post(settings, url, partner.key, payload)
    except httpx.HTTPError as exc:
        attempts = notice.attempts + 1
        _record(
            session,
            notice.id,
            won,
            attempts=attempts,
            last_error=type(exc).__name__,
            status="failed" if attempts >= MAX_ATTEMPTS else "pending",
            next_attempt_at=now + timedelta(minutes=min(2 ** (attempts - 1), 360)),
        )
        return
    if done:
        _answer(session, notice.id, "acknowledged", actor=f"partner:{partner.key}", won=won)
        return
    _record(
        session,
        notice.id,
        won,
        status="sent",
        last_error=None,
        reminders=reminder,
        next_attempt_at=now + _business_days(REMINDER_BUSINESS_DAYS),
    )


def _send_emails(
    session: Session,
    settings: Settings,
    notices: list[PartnerNotice],
    won: claims.Claim,
    reqs: dict[str, RightsRequest],
    partners: dict[str, Partner],
) -> None:
    """Due e-mailed notices and reminders, together: recorded as sent in one UPDATE while this
    worker's claim holds and no answer came meanwhile, then those it recorded queued in one
    insert (an e-mail goes out only for a send recorded, once)."""
    if not notices:
        return
    sent = set(
        session.scalars(
            update(PartnerNotice)
            .where(
                PartnerNotice.id.in_([n.id for n in notices]),
                PartnerNotice.status.in_(OPEN_STATUSES),
                won.held(PartnerNotice.claimed_by, PartnerNotice.claimed_until),
            )
            .values(
                status="sent",
                last_error=None,
                # A reminder when it was sent before: as `reminder` below, from the same row.
                reminders=PartnerNotice.reminders
                + case((PartnerNotice.status == "sent", 1), else_=0),
                next_attempt_at=utcnow() + _business_days(REMINDER_BUSINESS_DAYS),
                claimed_by=None,
                claimed_until=None,
            )
            .returning(PartnerNotice.id)
            .execution_options(synchronize_session=False)
        )
    )
    letters = []
    for notice in notices:
        if notice.id not in sent:
            continue
        req, partner = reqs[notice.request_id], partners[notice.partner_key]
        reminder = notice.reminders + (1 if notice.status == "sent" else 0)
        letters.append(
            {
                "to": str(partner.contact_email),
                "template": "partner_erasure",
                "request_id": req.id,
                "context": {"partner": partner.name, **_payload(settings, notice, req, reminder)},
            }
        )
    queue_emails(session, settings, letters)


def _record(session: Session, notice_id: int, won: claims.Claim, **values: object) -> bool:
    """Record a send and let the claim go, only while this worker's claim holds and the partner
    has not answered meanwhile (a confirmation is never overwritten by an older read)."""
    result = session.execute(
        update(PartnerNotice)
        .where(
            PartnerNotice.id == notice_id,
            PartnerNotice.status.in_(OPEN_STATUSES),
            won.held(PartnerNotice.claimed_by, PartnerNotice.claimed_until),
        )
        .values(**values, claimed_by=None, claimed_until=None)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def _business_days(days: int) -> timedelta:
    today = utcnow().date()
    return add_business_days(today, days) - today


def deliver_notices(session: Session, settings: Settings, *, limit: int | None = None) -> int:
    """Claim due notices and reminders, then send each; returns how many this worker sent."""
    limit = limit or settings.worker_batch_size
    # Long enough for every send of the batch to time out: a live worker records them all.
    lease = settings.claim_seconds + limit * settings.partner_timeout_seconds
    won = claims.claim(
        session,
        PartnerNotice,
        PartnerNotice.status.in_(("pending", "sent")),
        PartnerNotice.next_attempt_at <= utcnow(),
        lease=timedelta(seconds=lease),
        grace=timedelta(seconds=settings.worker_silent_seconds),
        limit=limit,
        order_by=PartnerNotice.next_attempt_at,
    )
    if won.ids:
        send_due(session, settings, _claimed(session, won), won)
    return len(won.ids)


def send_due(
    session: Session, settings: Settings, claimed: list[PartnerNotice], won: claims.Claim
) -> None:
    """Send the claimed notices still due: their requests and partners read once, each webhook
    alone (committed after it), the e-mails together (`_send_emails`)."""
    notices = [n for n in claimed if n.status in ("pending", "sent")]
    if not notices:
        return
    reqs = {
        r.id: r
        for r in session.scalars(
            select(RightsRequest).where(RightsRequest.id.in_({n.request_id for n in notices}))
        )
    }
    partners = {
        p.key: p
        for p in session.scalars(
            select(Partner).where(Partner.key.in_({n.partner_key for n in notices}))
        )
    }
    for notice in notices:
        if notice.channel == "webhook":
            req, partner = reqs[notice.request_id], partners[notice.partner_key]
            _send(session, settings, notice, won, req, partner)
            session.commit()
    emailed = [n for n in notices if n.channel != "webhook"]
    _send_emails(session, settings, emailed, won, reqs, partners)
    session.commit()


def _claimed(session: Session, won: claims.Claim) -> list[PartnerNotice]:
    """The notices a claim won: as it returned them (PostgreSQL), else read in one query."""
    if won.rows:
        return list(won.rows)
    return list(
        session.scalars(
            select(PartnerNotice)
            .where(PartnerNotice.id.in_(won.ids))
            .order_by(PartnerNotice.id)
            .execution_options(populate_existing=True)
        )
    )


def _answer(
    session: Session,
    notice_id: int,
    status: str,
    *,
    actor: str | None,
    note: str | None = None,
    won: claims.Claim | None = None,
) -> PartnerNotice | None:
    """Close a notice with the partner's or staff's answer, once: of two answers racing (a
    webhook's reply and the confirmation link, two clicks), one changes it and is audited.
    Returns the notice it closed (None: answered already). `actor` None: the partner."""
    conditions = [PartnerNotice.id == notice_id, PartnerNotice.status.in_(OPEN_STATUSES)]
    if won is not None:
        conditions.append(won.held(PartnerNotice.claimed_by, PartnerNotice.claimed_until))
    answered = session.scalars(
        update(PartnerNotice)
        .where(*conditions)
        .values(
            status=status,
            answered_at=utcnow(),
            note=note,
            **({"claimed_by": None, "claimed_until": None} if won is not None else {}),
        )
        .returning(PartnerNotice)
        .execution_options(synchronize_session=False, populate_existing=True)
    ).first()
    if answered is None:
        return None
    # Let a worker close the request now. A statement, not the loaded row: one read earlier
    # in this session may hold a stale lease and then the change would not be written.
    session.execute(
        update(RightsRequest)
        .where(RightsRequest.id == answered.request_id)
        .values(lease_until=None)
        .execution_options(synchronize_session=False)
    )
    audit.record(
        session,
        actor=actor or f"partner:{answered.partner_key}",
        action=f"partner.{status}",
        subject_type="rights_request",
        subject_id=answered.request_id,
        detail={"partner": answered.partner_key, **({"reason": note} if note else {})},
    )
    return answered


def acknowledge(session: Session, settings: Settings, *, token: str) -> PartnerNotice:
    """A partner confirms through its signed link (a second time changes nothing)."""
    notice_id = notice_from_token(settings, token)
    answered = _answer(session, notice_id, "acknowledged", actor=None)
    notice = answered or session.get(PartnerNotice, notice_id)  # read only when already closed
    if notice is None:
        raise NotFoundError("There is no such notice.")
    return notice


def waive(
    session: Session,
    *,
    request_id: str,
    partner_key: str,
    actor: Actor,
    reason: str,
    explanation: str,
) -> PartnerNotice:
    """Staff record why a partner's confirmation cannot be had (impossible or disproportionate).

    `reason` is staff's note, kept in the record only. `explanation` is what the person reads in
    their completion e-mail: the law asks for enough facts to understand why.
    """
    require(actor, Permission.REQUESTS_DECIDE)
    errors = [
        {"field": name, "message": message}
        for name, text, message in (
            ("reason", reason, "Write the reason for the record in a full sentence."),
            ("explanation", explanation, "Write what we tell the person in a full sentence."),
        )
        if len(text.strip()) < 10
    ]
    if errors:
        raise InvalidInputError(" ".join(e["message"] for e in errors), errors=errors)
    req = service.access_request(session, request_id)
    notice = session.scalar(
        select(PartnerNotice).where(
            PartnerNotice.request_id == req.id, PartnerNotice.partner_key == partner_key
        )
    )
    if notice is None:
        raise NotFoundError(f"No notice to partner '{partner_key}' on this request.")
    if notice.status not in OPEN_STATUSES:
        raise ConflictError("This partner has already answered.")
    notice.explanation = explanation.strip()
    if not _answer(session, notice.id, "waived", actor=actor.name, note=reason.strip()):
        raise ConflictError("This partner has already answered.")
    return notice
