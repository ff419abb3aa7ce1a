"""Opening the rights requests a DROP match calls for, on the same path as any other request.

A matched person becomes a deletion (or, when one identifier is linked to several people, an
opt-out of sale and sharing for each: DROP's status 4), with channel "drop". Nobody is asked for
a code: CalPrivacy verified the consumer before the request reached the list, so the request is
recorded as verified at its kind's level by the platform ("drop" as the identity method). The
staff member who imports the list approves the deletions it holds (erasure.approve), so they run
at once through the same erasure policy, partner notices, records and audit; there is no
consumer address to write to, so the request replies to nobody (`reply_by = "none"`).
"""

from __future__ import annotations

import secrets
import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from rightful import laws
from rightful.core.clock import utcnow
from rightful.core.config import Settings
from rightful.rights import service
from rightful.rights.kinds import kind_of
from rightful.rights.models import RightsRequest
from rightful.rights.types import OPEN, RequestType, Status
from rightful.security import audit
from rightful.security.permissions import Actor
from rightful.security.vault import keyed_hash

CHANNEL = "drop"
JURISDICTION = "US-CA"
NO_REPLY = "none"
_REF_ALPHABET = "ACDEFGHJKMNPQRTUVWXY3479"


def open_drop_requests(
    session: Session, settings: Settings, wanted: dict[str, RequestType], *, actor: Actor
) -> dict[str, str]:
    """A request for each (e-mail -> kind): an open DROP request of that kind for the person is
    reused; others are opened, verified by the platform and approved. Returns e-mail -> id."""
    hashes = {email: keyed_hash(settings.secret_key, "email", email) for email in wanted}
    open_ones: dict[tuple[str, str], str] = {}
    values = list(hashes.values())
    for start in range(0, len(values), 1000):
        rows = session.execute(
            select(RightsRequest.email_hash, RightsRequest.request_type, RightsRequest.id).where(
                RightsRequest.email_hash.in_(values[start : start + 1000]),
                RightsRequest.channel == CHANNEL,
                RightsRequest.status.in_([s.value for s in OPEN]),
            )
        )
        open_ones.update({(h, t): rid for h, t, rid in rows})
    out = {}
    for email, kind in wanted.items():
        found = open_ones.get((hashes[email], kind.value))
        out[email] = found or _open(session, settings, email, kind, hashes[email], actor)
    return out


def _open(
    session: Session,
    settings: Settings,
    email: str,
    kind_type: RequestType,
    email_hash: str,
    actor: Actor,
) -> str:
    kind = kind_of(kind_type.value)
    now = utcnow()
    place = laws.parse(JURISDICTION)
    mode = settings.rules_mode
    req = RightsRequest(
        id=uuid.uuid4().hex,
        reference="R-" + "".join(secrets.choice(_REF_ALPHABET) for _ in range(8)),
        request_type=kind.type.value,
        status=Status.RECEIVED.value,
        channel=CHANNEL,
        language="en",
        jurisdiction=place.code,
        reply_by=NO_REPLY,
        identities=service.identity_vault(settings).encrypt_json({"email": email}),
        email_hash=email_hash,
        required_level=kind.verification_level,
        verification_level=kind.verification_level,
        identity_method="drop",
        identity_checked_by="California Privacy Protection Agency (DROP)",
        identity_checked_at=now,
        received_at=now,
        acknowledge_due=laws.acknowledge_due(now, place, mode),
        respond_due=laws.answer_due(kind.type.value, now, place, mode),
        date_from=service.EARLIEST,
        date_to=laws.local_date(now, place),
    )
    session.add(req)
    session.flush()
    audit.record(
        session,
        actor=actor.name,
        action="request.received",
        subject_type="rights_request",
        subject_id=req.id,
        detail={"type": kind.type.value, "channel": CHANNEL, "jurisdiction": place.code},
    )
    service.move(
        session,
        req,
        Status.VERIFIED,
        actor="drop",
        reason="verified by the California Privacy Protection Agency before it reached DROP",
        detail={"level": kind.verification_level, "required": kind.verification_level},
    )
    service.move(session, req, Status.EXECUTING, actor=actor.name, reason="drop list imported")
    return req.id
