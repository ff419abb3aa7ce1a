"""The worker's share of transfers (rights/transfers.py): ask the person to confirm, close
what can no longer go, send what is ready — claimed in the database before it leaves — follow
the recipient's e-mail, and tell the person what came of it."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from rightful.core import claims, i18n
from rightful.core.clock import utcnow
from rightful.core.config import Settings
from rightful.messaging.models import OutboxMessage
from rightful.messaging.service import queue_email
from rightful.rights import service
from rightful.rights.models import RightsRequest
from rightful.rights.package import load
from rightful.rights.packaging import package_vault
from rightful.rights.transfer_intake import recipient_of
from rightful.rights.transfer_models import PortabilityTransfer
from rightful.rights.transfer_send import TIMEOUT_SECONDS, post_package, signed_headers
from rightful.rights.transfers import (
    OUTCOMES,
    VERIFIED,
    WAITING,
    audit_step,
    confirm_url,
    failure_words,
    move,
    package_ready,
    receive_url,
)
from rightful.rights.types import Status

MAX_ATTEMPTS = 8  # 1, 2, 4 … 64 minutes apart: about two hours of retries


def _ask_confirmation(session: Session, settings: Settings) -> int:
    """E-mail each verified person whose recipient is not confirmed yet (once)."""
    waiting = session.execute(
        select(PortabilityTransfer, RightsRequest)
        .join(RightsRequest, RightsRequest.id == PortabilityTransfer.request_id)
        .where(
            PortabilityTransfer.status == "awaiting_confirmation",
            PortabilityTransfer.confirmation_sent_at.is_(None),
            RightsRequest.status.in_(VERIFIED),
        )
        .limit(50)
    ).all()
    for t, req in waiting:
        if not move(session, t, ("awaiting_confirmation",), confirmation_sent_at=utcnow()):
            session.rollback()
            continue
        opened = recipient_of(settings, t)
        service.notify_consumer(
            session,
            settings,
            req,
            "transfer_confirm",
            {
                "recipient_name": opened.get("name", ""),
                "recipient": opened.get("to", ""),
                "by_email": t.channel == "email",
                "confirm_url": confirm_url(settings, t.uid),
            },
        )
        audit_step(session, t, "confirmation_asked", "worker")
        session.commit()
    return len(waiting)


# --- closing what can no longer go ---------------------------------------------------------


def _close_unsendable(session: Session) -> int:
    """Cancel transfers of requests closed without a package; expire those whose package's
    time ran out before the person confirmed."""
    rows = session.execute(
        select(PortabilityTransfer, RightsRequest)
        .join(RightsRequest, RightsRequest.id == PortabilityTransfer.request_id)
        .where(PortabilityTransfer.status.in_(WAITING))
    ).all()
    closed = 0
    now = utcnow()
    for t, req in rows:
        if req.status in (Status.DENIED.value, Status.WITHDRAWN.value):
            if move(session, t, WAITING, status="cancelled", finished_at=now):
                audit_step(session, t, "cancelled", "worker", reason=f"request {req.status}")
                closed += 1
        elif (
            req.closed_at is not None
            and not package_ready(req)
            and move(session, t, WAITING, status="expired", finished_at=now)
        ):
            audit_step(session, t, "expired", "worker", reason="no package to send")
            closed += 1
    session.commit()
    return closed


# --- sending -------------------------------------------------------------------------------


def _payload(settings: Settings, t: PortabilityTransfer, req: RightsRequest) -> bytes:
    """The JSON a receiving endpoint gets: who sends, and the package's data.json whole."""
    data = load(package_vault(settings), settings.package_dir, str(req.package_file))
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        package = json.loads(zf.read("data.json"))
    body = {
        "type": "portability.transfer",
        "id": t.uid,
        "reference": req.reference,
        "sender": {"organisation": settings.company_name, "privacy_email": settings.privacy_email},
        "recipient": {"name": recipient_of(settings, t).get("name", "")},
        "format": "rightful.package.v1",
        "package": package,
    }
    return json.dumps(body, ensure_ascii=False, sort_keys=True).encode()


def backoff(attempts: int) -> timedelta:
    """How long to wait after the n-th failed attempt: 1, 2, 4 … minutes."""
    return timedelta(minutes=2 ** max(attempts - 1, 0))


def _claim(session: Session, settings: Settings) -> claims.Claim:
    """Claim confirmed transfers whose package is ready and whose attempt is due, a worker's
    batch at most (commits); a dead worker's claims are free once its heartbeat stops."""
    limit = settings.worker_batch_size
    ready = select(RightsRequest.id).where(
        RightsRequest.status == Status.COMPLETED.value, RightsRequest.package_file.is_not(None)
    )
    return claims.claim(
        session,
        PortabilityTransfer,
        PortabilityTransfer.status == "confirmed",
        PortabilityTransfer.next_attempt_at <= utcnow(),
        PortabilityTransfer.request_id.in_(ready),
        # Long enough for every POST of the batch to time out: a live worker records them all.
        lease=timedelta(seconds=settings.claim_seconds + limit * TIMEOUT_SECONDS),
        grace=timedelta(seconds=settings.worker_silent_seconds),
        limit=limit,
        order_by=PortabilityTransfer.next_attempt_at,
    )


def _start(session: Session, t: PortabilityTransfer, won: claims.Claim) -> bool:
    # The attempt is counted and audited in its own commit, before anything leaves, while the
    # claim holds: a worker killed mid-POST can repeat the POST, never hide it.
    result = session.execute(
        update(PortabilityTransfer)
        .where(
            PortabilityTransfer.id == t.id,
            PortabilityTransfer.status == "confirmed",
            won.held(PortabilityTransfer.claimed_by, PortabilityTransfer.claimed_until),
        )
        .values(attempts=PortabilityTransfer.attempts + 1)
        .execution_options(synchronize_session=False)
    )
    if not result.rowcount:  # type: ignore[attr-defined]
        session.rollback()
        return False
    session.refresh(t)
    audit_step(session, t, "attempt", "worker", attempt=t.attempts)
    session.commit()
    return True


def _post(
    session: Session,
    settings: Settings,
    t: PortabilityTransfer,
    req: RightsRequest,
    won: claims.Claim,
) -> None:
    """POST the package once, by the worker holding the claim; its outcome is written (and
    audited) only while that claim holds, so a transfer taken over is recorded once."""
    if not _start(session, t, won):
        return
    url = recipient_of(settings, t)["to"]
    body = _payload(settings, t, req)
    answer_ = post_package(settings, url, body, signed_headers(settings, url, body, uid=t.uid))
    now, got = utcnow(), answer_.http_status
    values: dict[str, Any]
    detail: dict[str, Any]
    if answer_.accepted:
        values = {"status": "accepted", "last_error": None, "sent_at": now, "finished_at": now}
        step, detail = "accepted", {"http_status": got}
    elif answer_.retry and t.attempts < MAX_ATTEMPTS:
        values = {"last_error": answer_.error, "next_attempt_at": now + backoff(t.attempts)}
        step, detail = "attempt_failed", {"reason": answer_.error, "retry": True}
    else:
        values = {"status": "failed", "last_error": answer_.error, "finished_at": now}
        step, detail = "failed", {"reason": answer_.error}
    if move(session, t, ("confirmed",), won=won, http_status=got, **values):
        audit_step(session, t, step, "worker", **detail)
    session.commit()


def _email(
    session: Session,
    settings: Settings,
    t: PortabilityTransfer,
    req: RightsRequest,
    won: claims.Claim,
) -> None:
    opened = recipient_of(settings, t)
    msg = queue_email(
        session,
        settings,
        to=opened["to"],
        template="transfer_recipient",
        request_id=req.id,
        language=req.language,
        context={
            "reference": req.reference,
            "recipient_name": opened.get("name", ""),
            "receive_url": receive_url(settings, t.uid),
            "expires": i18n.format_date((req.package_expires_at or utcnow()).date(), req.language),
        },
    )
    if not move(session, t, ("confirmed",), won=won, status="sending", message_id=msg.id):
        session.rollback()  # the claim was lost (this worker was silent too long)
        return
    audit_step(session, t, "queued", "worker")
    session.commit()


def _send_ready(session: Session, settings: Settings) -> int:
    """Claim what is ready and send each, by POST or e-mail; returns how many were claimed."""
    won = _claim(session, settings)
    for transfer_id in won.ids:
        t = session.get(PortabilityTransfer, transfer_id, populate_existing=True)
        req = session.get(RightsRequest, t.request_id) if t is not None else None
        if t is None or req is None or not package_ready(req):
            claims.release(session, PortabilityTransfer, won, transfer_id)
            session.commit()
            continue
        if t.channel == "endpoint":
            _post(session, settings, t, req, won)
        else:
            _email(session, settings, t, req, won)
    return len(won.ids)


def _follow_emails(session: Session, settings: Settings) -> None:
    """A recipient's e-mail counts as sent when the mail server took it, failed when it gave
    up; in the demo (no mail server) being recorded in the outbox is all there is."""
    for t in session.scalars(
        select(PortabilityTransfer).where(PortabilityTransfer.status == "sending")
    ).all():
        msg = session.get(OutboxMessage, t.message_id) if t.message_id else None
        delivered = msg is not None and (
            msg.status == "sent" or (settings.demo_mode and msg.status == "recorded")
        )
        if delivered and move(session, t, ("sending",), status="sent", sent_at=utcnow()):
            audit_step(session, t, "sent", "worker")
        elif (
            msg is not None
            and msg.status == "failed"
            and move(
                session,
                t,
                ("sending",),
                status="failed",
                last_error="e-mail not delivered",
                finished_at=utcnow(),
            )
        ):
            audit_step(session, t, "failed", "worker", reason="e-mail not delivered")
    session.commit()


def _tell_people(session: Session, settings: Settings) -> None:
    """E-mail each person once what came of their transfer."""
    for t in session.scalars(
        select(PortabilityTransfer).where(
            PortabilityTransfer.status.in_(OUTCOMES), PortabilityTransfer.person_told_at.is_(None)
        )
    ).all():
        if not move(session, t, OUTCOMES, person_told_at=utcnow()):
            session.rollback()
            continue
        req = service.access_request(session, t.request_id)
        opened = recipient_of(settings, t)
        service.notify_consumer(
            session,
            settings,
            req,
            "transfer_outcome",
            {
                "outcome": t.status,
                "recipient_name": opened.get("name", ""),
                "recipient": opened.get("to", ""),
                "http_status": t.http_status,
                "reason": failure_words(t) if t.status == "failed" else "",
            },
        )
        audit_step(session, t, "person_told", "worker", outcome=t.status)
        session.commit()


def deliver_transfers(session: Session, settings: Settings) -> int:
    """One worker pass: ask for confirmations, close what cannot go, send what is ready,
    follow the e-mails and tell people the outcome. Returns how many were ready to send."""
    _ask_confirmation(session, settings)
    _close_unsendable(session)
    sent = _send_ready(session, settings)
    _follow_emails(session, settings)
    _tell_people(session, settings)
    return sent
