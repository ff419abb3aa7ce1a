"""Sending a portable copy to the organisation the person named, once they confirm it: the
transfer as people see it, the person's confirmation and the recipient's download (the
worker's passes are in rights/transfer_worker.py).

The life of a transfer (rights/transfer_models.py): recorded at intake with its recipient
sealed; once the person is verified the worker e-mails them a link to confirm the recipient
(the same verified channel); once confirmed and the package is built, the worker sends it —
an e-mail with a signed, expiring download link, or the JSON package POSTed with a signature
(rights/transfer_send.py) — and tells the person what happened. Every step is claimed in the
database before it is done, audited, and shown on the status page and the console.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from rightful.core import claims
from rightful.core.clock import utcnow
from rightful.core.config import Settings
from rightful.core.errors import ConflictError, NotFoundError
from rightful.core.i18n import N_
from rightful.rights import service
from rightful.rights.models import RightsRequest
from rightful.rights.package import load
from rightful.rights.packaging import package_vault
from rightful.rights.schemas import TransferOut
from rightful.rights.transfer_intake import recipient_of
from rightful.rights.transfer_models import PortabilityTransfer
from rightful.rights.types import Status
from rightful.security import audit
from rightful.security.tokens import LinkSigner

CONFIRM_LINK_SECONDS = 30 * 86400
VERIFIED = frozenset(
    s.value
    for s in (
        Status.VERIFIED,
        Status.AWAITING_APPROVAL,
        Status.EXECUTING,
        Status.COMPLETED,
        Status.PARTIALLY_COMPLETED,
    )
)
WAITING = ("awaiting_confirmation", "confirmed")
OUTCOMES = ("sent", "accepted", "failed", "expired")  # the person is told each of these
# What the person reads about a failure (the recorded reason is for staff).
FAILURE_WORDS = {
    "certificate not trusted": N_("its server's security certificate could not be verified"),
    "not a public address": N_("its address is not on the public internet"),
    "address not found": N_("its server could not be found"),
    "could not connect": N_("its server could not be reached"),
    "timed out": N_("its server did not answer in time"),
    "e-mail not delivered": N_("the e-mail to it could not be delivered"),
}


def _signer(settings: Settings, purpose: str) -> LinkSigner:
    return LinkSigner(settings.secret_key, f"transfer-{purpose}")


def confirm_url(settings: Settings, uid: str) -> str:
    """The link the person confirms the recipient with (sent to their verified address)."""
    return f"{settings.base_url}/transfers/confirm/{_signer(settings, 'confirm').sign(uid)}"


def receive_url(settings: Settings, uid: str) -> str:
    """The link the recipient downloads the package with; it expires with the package."""
    return f"{settings.base_url}/transfers/receive/{_signer(settings, 'receive').sign(uid)}"


def _by_token(
    session: Session, settings: Settings, token: str, purpose: str
) -> PortabilityTransfer:
    seconds = CONFIRM_LINK_SECONDS if purpose == "confirm" else settings.package_link_days * 86400
    uid = _signer(settings, purpose).unsign(token, max_age_seconds=seconds)
    found = session.scalar(select(PortabilityTransfer).where(PortabilityTransfer.uid == uid))
    if found is None:
        raise NotFoundError(N_("There is no such transfer."))
    return found


def transfer_of(session: Session, request_id: str) -> PortabilityTransfer | None:
    """The transfer a request asked for, if any."""
    return session.scalar(
        select(PortabilityTransfer).where(PortabilityTransfer.request_id == request_id)
    )


@dataclass(frozen=True)
class TransferView:
    """A transfer as the person, staff and the API see it (the recipient only when opened)."""

    uid: str
    channel: str
    status: str
    recipient_name: str
    recipient: str | None
    confirmation_sent_at: datetime | None
    confirmed_at: datetime | None
    attempts: int
    http_status: int | None
    last_error: str | None
    sent_at: datetime | None
    downloaded_at: datetime | None
    finished_at: datetime | None

    @property
    def failure(self) -> str:
        """Why it failed, in the person's words (N_: translated where shown)."""
        return failure_words(self)


def view(
    session: Session, settings: Settings, request_id: str, *, with_recipient: bool = True
) -> TransferView | None:
    """What the status page, the console and the API show of a request's transfer."""
    t = transfer_of(session, request_id)
    if t is None:
        return None
    opened = recipient_of(settings, t)
    return TransferView(
        uid=t.uid,
        channel=t.channel,
        status=t.status,
        recipient_name=opened.get("name", "") if with_recipient else "",
        recipient=opened.get("to") if with_recipient else None,
        confirmation_sent_at=t.confirmation_sent_at,
        confirmed_at=t.confirmed_at,
        attempts=t.attempts,
        http_status=t.http_status,
        last_error=t.last_error,
        sent_at=t.sent_at,
        downloaded_at=t.downloaded_at,
        finished_at=t.finished_at,
    )


def audit_step(
    session: Session, t: PortabilityTransfer, action: str, actor: str, **detail: Any
) -> None:
    audit.record(
        session,
        actor=actor,
        action=f"transfer.{action}",
        subject_type="rights_request",
        subject_id=t.request_id,
        detail={"transfer": t.uid, "channel": t.channel, **detail},
    )


def move(
    session: Session,
    t: PortabilityTransfer,
    frm: tuple[str, ...],
    *,
    won: claims.Claim | None = None,
    **values: Any,
) -> bool:
    """Change a transfer only if it is still in one of `frm` (one worker or click wins); a
    moment set in `values` is set only where it was not yet. With `won`, only while that
    worker's claim holds, and the claim goes with the change."""
    stmt = update(PortabilityTransfer).where(
        PortabilityTransfer.id == t.id, PortabilityTransfer.status.in_(frm)
    )
    for name in ("person_told_at", "confirmation_sent_at"):
        if name in values:
            stmt = stmt.where(getattr(PortabilityTransfer, name).is_(None))
    if won is not None:
        stmt = stmt.where(
            won.held(PortabilityTransfer.claimed_by, PortabilityTransfer.claimed_until)
        )
        values.update(claimed_by=None, claimed_until=None)
    result = session.execute(stmt.values(**values).execution_options(synchronize_session=False))
    session.refresh(t)
    return bool(result.rowcount)  # type: ignore[attr-defined]


# --- the person confirms ------------------------------------------------------------------


def for_confirmation(session: Session, settings: Settings, token: str) -> tuple[TransferView, str]:
    """The transfer a confirmation link is for, and its request's reference."""
    t = _by_token(session, settings, token, "confirm")
    req = service.access_request(session, t.request_id)
    shown = view(session, settings, t.request_id)
    assert shown is not None
    return shown, req.reference


def answer(session: Session, settings: Settings, *, token: str, confirm: bool) -> str:
    """The person confirms the recipient (or says no); returns the transfer's status. A second
    answer changes nothing."""
    t = _by_token(session, settings, token, "confirm")
    now = utcnow()
    if confirm and move(
        session, t, ("awaiting_confirmation",), status="confirmed", confirmed_at=now
    ):
        audit_step(session, t, "confirmed", "consumer")
    elif not confirm and move(
        session, t, ("awaiting_confirmation", "confirmed"), status="cancelled", finished_at=now
    ):
        audit_step(session, t, "cancelled", "consumer", reason="the person said no")
    return t.status


def package_ready(req: RightsRequest) -> bool:
    """Whether a request has a package that may still be sent (built and not expired)."""
    return (
        req.status == Status.COMPLETED.value
        and bool(req.package_file)
        and (req.package_expires_at is None or req.package_expires_at > utcnow())
    )


def failure_words(t: PortabilityTransfer | TransferView) -> str:
    """Why a transfer failed, in the person's words (N_: translated where shown)."""
    error = t.last_error or ""
    if error in FAILURE_WORDS:
        return FAILURE_WORDS[error]
    if error.startswith("HTTP 3"):
        return N_("its server sent us to another address, which we do not follow")
    if t.http_status:
        return N_("its server refused it (HTTP status %(status)s)", status=t.http_status)
    return N_("it could not be reached")


# --- the recipient downloads ---------------------------------------------------------------


def receiving(session: Session, settings: Settings, token: str) -> tuple[str, str, str]:
    """(reference, sender's name, recipient's name) of a valid recipient's link with a package
    still to give; the error page otherwise."""
    t = _by_token(session, settings, token, "receive")
    req = service.access_request(session, t.request_id)
    if t.status not in ("sent", "downloaded", "sending") or not package_ready(req):
        raise ConflictError(N_("This link no longer gives anything: the copy has expired."))
    return req.reference, settings.company_name, recipient_of(settings, t).get("name", "")


def receive(session: Session, settings: Settings, token: str) -> tuple[bytes, str]:
    """The package and its file name for the holder of the recipient's link; the first
    download is recorded (and each is counted)."""
    reference, _, _ = receiving(session, settings, token)
    t = _by_token(session, settings, token, "receive")
    req = service.access_request(session, t.request_id)
    data = load(package_vault(settings), settings.package_dir, str(req.package_file))
    first = t.downloaded_at is None
    t.downloads += 1
    if first:
        t.downloaded_at = utcnow()
        if t.status in ("sent", "sending"):
            t.status, t.finished_at = "downloaded", t.downloaded_at
    session.flush()
    audit_step(session, t, "downloaded", "recipient", first=first)
    return data, f"{reference}-portable-copy.zip"


def transfer_out(
    session: Session, settings: Settings, request_id: str, *, personal: bool
) -> TransferOut | None:
    """The API's view of a request's transfer (the recipient only when `personal`)."""
    shown = view(session, settings, request_id, with_recipient=personal)
    if shown is None:
        return None

    def moment(value: datetime | None) -> str | None:
        return value.isoformat() if value else None

    return TransferOut(
        channel=shown.channel,
        status=shown.status,
        recipient_name=shown.recipient_name if personal else None,
        recipient=shown.recipient,
        confirmed_at=moment(shown.confirmed_at),
        attempts=shown.attempts,
        http_status=shown.http_status,
        last_error=shown.last_error,
        sent_at=moment(shown.sent_at),
        downloaded_at=moment(shown.downloaded_at),
    )
