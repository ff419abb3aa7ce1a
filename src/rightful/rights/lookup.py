"""A fresh status link for someone who lost theirs: e-mailed, never shown.

The person gives the request's reference and their e-mail address. When the address is the one
that filed the request (the person's own, or an authorized agent's or a parent's own address for
a request they filed), its status link goes to that address, and only there: a stranger who
knows a reference gains nothing. Whatever was typed, the caller shows the same answer and
the same limits count, so nobody learns whether a request or an address exists.
"""

from __future__ import annotations

import hmac
import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from rightful.core import i18n
from rightful.core.config import Settings
from rightful.messaging import limits
from rightful.messaging.service import queue_email
from rightful.rights import service
from rightful.rights.kinds import kind_of
from rightful.rights.models import RightsRequest
from rightful.security import audit
from rightful.security.vault import keyed_hash

# Status links asked for again: the same few an hour to one address as consent links.
STATUS_LINKS = limits.MailLimit(
    "status-link",
    per_address=3,
    per_client=10,
    client_message="Too many links were asked for from this connection. Try again later.",
)
_REFERENCE = re.compile(r"^R-?([A-Z0-9]{8})$")


def normal_reference(typed: str) -> str | None:
    """A reference as Rightful writes it (R-XXXXXXXX), from what a person typed: case,
    spaces and a missing dash do not matter; None when it cannot be one."""
    compact = re.sub(r"\s+", "", typed).upper()
    if not compact.startswith("R"):
        compact = "R" + compact
    found = _REFERENCE.match(compact)
    return f"R-{found.group(1)}" if found else None


def _filed_by(settings: Settings, req: RightsRequest, email: str) -> bool:
    """Whether `email` is the address the request's e-mails go to: an agent's or parent's own
    when they filed it (never the consumer's then), else the person's."""
    own = service.requester_of(settings, req).get("email")
    if own:
        return hmac.compare_digest(own.encode(), email.encode())
    return req.email_hash == keyed_hash(settings.secret_key, "email", email)


def send_status_link(
    session: Session, settings: Settings, *, email: str, reference: str, client: str | None
) -> bool:
    """E-mail the request's status link when `email` (already normalised) filed the request
    `reference` (for an agent's or a parent's request, their own address); True when one was
    queued. RateLimitedError when `client` asked too often.

    The answer must not be shown to the person: the caller says the same either way."""
    # Counted first, for matches and misses alike: the limits must not tell them apart.
    if not limits.may_send(session, settings, STATUS_LINKS, address=email, client=client):
        return False
    wanted = normal_reference(reference)
    req = (
        session.scalar(select(RightsRequest).where(RightsRequest.reference == wanted))
        if wanted
        else None
    )
    if req is None or not _filed_by(settings, req, email):
        return False
    language = req.language or i18n.DEFAULT
    queue_email(  # to the address typed: the one that filed the request, as just shown
        session,
        settings,
        to=email,
        template="status_link",
        request_id=req.id,
        context={
            "reference": req.reference,
            "type_label": kind_of(req.request_type).label,
            "status_url": service.status_url(settings, req.id),
        },
        language=language,
    )
    audit.record(
        session,
        actor="consumer",
        action="request.status_link_sent",
        subject_type="rights_request",
        subject_id=req.id,
    )
    return True
