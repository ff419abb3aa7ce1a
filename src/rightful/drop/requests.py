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
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from rightful import laws
from rightful.core.clock import utcnow
from rightful.core.config import Settings
from rightful.rights import service
from rightful.rights.kinds import kind_of
from rightful.rights.models import RightsRequest
from rightful.rights.types import OPEN, RequestType, Status
from rightful.security.permissions import Actor
from rightful.security.vault import keyed_hash

CHANNEL = "drop"
JURISDICTION = "US-CA"
NO_REPLY = "none"
_REF_ALPHABET = "ACDEFGHJKMNPQRTUVWXY3479"
VERIFIED_REASON = "verified by the California Privacy Protection Agency before it reached DROP"


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
    missing = [
        (email, kind, hashes[email])
        for email, kind in wanted.items()
        if (hashes[email], kind.value) not in open_ones
    ]
    new = _rows(settings, missing)
    out = {email: open_ones.get((hashes[email], kind.value), "") for email, kind in wanted.items()}
    out.update({email: row["id"] for (email, _, _), row in zip(missing, new, strict=True)})
    for kind_type in sorted({r["request_type"] for r in new}):
        service.create_moved(
            session,
            [r for r in new if r["request_type"] == kind_type],
            received_by=actor.name,
            received_detail={"type": kind_type, "channel": CHANNEL, "jurisdiction": JURISDICTION},
            moves=[
                (Status.VERIFIED, "drop", VERIFIED_REASON),
                (Status.EXECUTING, actor.name, "drop list imported"),
            ],
        )
    session.flush()
    return out


def _rows(settings: Settings, wanted: list[tuple[str, RequestType, str]]) -> list[dict[str, Any]]:
    """Requests' columns (e-mail, kind, keyed hash): verified by the platform at their kind's
    level, replying to nobody; deadlines from now, counted once."""
    now = utcnow()
    place = laws.parse(JURISDICTION)
    vault = service.identity_vault(settings)
    due = {
        k: (laws.acknowledge_due(now, place, settings.rules_mode),
            laws.answer_due(k.value, now, place, settings.rules_mode))
        for k in {kind for _, kind, _ in wanted}
    }  # fmt: skip
    return [
        {
            "id": uuid.uuid4().hex,
            "reference": "R-" + "".join(secrets.choice(_REF_ALPHABET) for _ in range(8)),
            "request_type": kind.value,
            "channel": CHANNEL,
            "language": "en",
            "jurisdiction": place.code,
            "reply_by": NO_REPLY,
            "identities": vault.encrypt_json({"email": email}),
            "email_hash": email_hash,
            "required_level": kind_of(kind.value).verification_level,
            "verification_level": kind_of(kind.value).verification_level,
            "identity_method": "drop",
            "identity_checked_by": "California Privacy Protection Agency (DROP)",
            "identity_checked_at": now,
            "received_at": now,
            "acknowledge_due": due[kind][0],
            "respond_due": due[kind][1],
            "date_from": service.EARLIEST,
            "date_to": laws.local_date(now, place),
            "summary": {},
        }
        for email, kind, email_hash in wanted
    ]
