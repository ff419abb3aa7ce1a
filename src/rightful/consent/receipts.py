"""Consent receipts: a person's choices as an ISO/IEC TS 27560-style consent record.

The record names the person only by their pseudonymous subject id, so it can be kept or
forwarded without disclosing the address; the e-mail that carries it goes to that address.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from rightful.consent import catalog, ledger, receipt_proofs, subjects
from rightful.consent.models import ConsentEvent, ConsentPurpose, ConsentSubject
from rightful.consent.state import current
from rightful.core import i18n
from rightful.core.clock import utcnow
from rightful.core.config import Settings
from rightful.core.errors import NotFoundError
from rightful.messaging import limits
from rightful.messaging.models import OutboxMessage
from rightful.messaging.service import queue_email

SCHEMA = "ISO/IEC TS 27560:2023 consent record"
SCHEMA_VERSION = "1.0"
INTERFACE_WORDS = {
    "banner": "the cookie banner on our website",
    "preference_center": "the preference center",
    "unsubscribe_link": "an unsubscribe link in an e-mail",
    "list_removal": "the list-removal page",
    "gpc": "a Global Privacy Control signal from your browser",
    "api": "one of our own systems, on your behalf",
    "staff": "our privacy team, at your request",
    "rights_request": "a privacy request you made",
    "sms_reply": "a reply to one of our text messages",
    "double_opt_in": "the confirmation link we e-mailed you after you signed up",
    "import": "our own records (e.g. our e-mail subscription list), brought into this record",
}
# Who made an event (ISO/IEC TS 27560 `event_by`): the person, unless staff recorded it for them
# or it was imported from what the company's own systems held.
EVENT_BY = {"staff": "staff", "import": "controller"}


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def _purposes(session: Session, subject: ConsentSubject) -> list[dict[str, Any]]:
    rows = {p.key: p for p in session.scalars(select(ConsentPurpose))}
    found = []
    for c in current(session, subject):
        purpose = rows[c.purpose]
        if subject.kind == "person" and purpose.kind == "cookies":
            continue  # cookie choices belong to a browser, not to the person's address
        found.append(
            {
                "purpose_id": purpose.key,
                "purpose": purpose.title,
                "description": purpose.description,
                "channel": c.channel,
                "lawful_basis": "consent",
                "consent_status": c.state,
                "consent_type": "explicit" if c.explicit else "default",
                "state_since": _iso(c.since),
                "event_id": c.event_uid,
                "data_use": purpose.data_use,
            }
        )
    return found


def _event(e: ConsentEvent, log: dict[str, Any]) -> dict[str, Any]:
    return {
        "event_id": e.uid,
        "event_time": _iso(e.at),
        "event_type": e.state,
        "event_by": EVENT_BY.get(e.interface, "pii_principal"),
        "purpose_id": e.purpose,
        "channel": e.channel,
        "collection_method": e.interface,
        "notice_version": e.notice_version,
        "jurisdiction": e.jurisdiction,
        "log": log,
    }


def receipt(
    session: Session,
    settings: Settings,
    subject: ConsentSubject,
    events: list[ConsentEvent] | None = None,
) -> dict[str, Any]:
    """A consent record: every choice as it stands, and the events it covers (all of the
    subject's when `events` is None), each with its place in the signed log and the proof of
    it, so that anyone can check the record (consent/receipt_check.py)."""
    catalog.ensure_built_in(session)
    covered = sorted(
        events if events is not None else ledger.history(session, subject.id), key=lambda e: e.id
    )
    latest = covered[-1] if covered else None
    logged, head = receipt_proofs.blocks(session, settings, covered)
    return {
        "schema": SCHEMA,
        "schema_version": SCHEMA_VERSION,
        "record_id": uuid.uuid4().hex,
        "record_time": utcnow().isoformat(),
        "language": "en",
        "pii_principal_id": subject.id,
        "controller": {
            "name": settings.company_name,
            "contact": settings.privacy_email,
            "address": settings.postal_address,
            "url": settings.base_url,
        },
        "notice": {"version": latest.notice_version if latest else settings.notice_version},
        "jurisdiction": latest.jurisdiction if latest else settings.default_jurisdiction,
        "collection_method": {
            "interface": latest.interface if latest else None,
            "description": INTERFACE_WORDS.get(latest.interface, "") if latest else None,
        },
        "withdrawal_method": f"{settings.base_url}/preferences",
        "purposes": _purposes(session, subject),
        "events": [_event(e, logged[e.uid]) for e in covered],
        "proof": {
            "ledger": (
                "Merkle tree log (RFC 9162) with signed tree heads: each event's log entry, "
                "position and inclusion proof lead to tree_head, signed with a key published "
                "at public_keys"
            ),
            "tree_head": receipt_proofs.signed_head(settings, head) if head else None,
            "public_keys": settings.base_url + receipt_proofs.KEYS_PATH,
            "verify_at": settings.base_url + receipt_proofs.VERIFY_PATH,
            "latest_event_proof": latest.proof if latest else None,
        },
    }


def email_receipt(
    session: Session,
    settings: Settings,
    subject: ConsentSubject,
    *,
    client: str | None = None,
    language: str = i18n.DEFAULT,
) -> OutboxMessage:
    """Queue the person's receipt to their own address, in `language`, within the mail limits
    (asked from `client`, or by a trusted caller when None); RateLimitedError when over them."""
    to = subjects.email_of(settings, subject)
    if to is None:
        raise NotFoundError("There is no e-mail address to send a receipt to.")
    limits.check(session, settings, limits.CONSENT_RECEIPTS, address=to, client=client)
    record = receipt(session, settings, subject)
    return queue_email(
        session,
        settings,
        to=to,
        template="consent_receipt",
        context={"record": record, "url": record["withdrawal_method"]},
        language=language,
    )
