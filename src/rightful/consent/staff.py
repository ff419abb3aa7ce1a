"""Consent as staff and API tokens reach it, each action checked against the permission table.

The building blocks below (subjects, the ledger, checks, the catalogue) serve the banner, the
preference center, unsubscribe links and the worker too, so they take no actor; the console,
the API and the CLI call them only through here. Reading one person's choices writes
`staff.read_personal` (who read which subject's choices; never the choices or the address).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import IO, Any

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from rightful.consent import (
    bulk_check,
    catalog,
    deliver,
    destinations,
    ledger,
    linked,
    log_check,
    propagation,
    reports,
    service,
    sms,
    store_import,
    subjects,
    subscriptions,
    suppression,
    texts,
)
from rightful.consent.delivery_report import DeliverySummary
from rightful.consent.models import (
    ConsentDelivery,
    ConsentDestination,
    ConsentEvent,
    ConsentPurpose,
    ConsentStoreImport,
    ConsentSubject,
)
from rightful.consent.state import Current, Decision, current
from rightful.core.config import Settings
from rightful.messaging.models import OutboxMessage
from rightful.security import audit
from rightful.security.chain_check import Verdict
from rightful.security.permissions import Actor, Permission, require

P = Permission


@dataclass(frozen=True)
class Choices:
    """One subject's current choices and history, as staff read them."""

    subject: ConsentSubject | None
    states: list[Current]
    events: list[ConsentEvent]


# Views: purposes, counts, the ledger's integrity, propagation. No one's choices.


def purposes(session: Session, *, actor: Actor) -> list[ConsentPurpose]:
    """Everything that can be consented to, in display order."""
    require(actor, P.CONSENT_VIEW)
    return catalog.purposes(session)


def purpose_translations(session: Session, *, actor: Actor) -> dict[str, Any]:
    """The purposes' titles and descriptions in other languages."""
    require(actor, P.CONSENT_VIEW)
    return texts.purpose_translations(session)


def banner_texts(session: Session, *, actor: Actor) -> dict[str, dict[str, str]]:
    """The banner texts in the company's own words."""
    require(actor, P.CONSENT_VIEW)
    return texts.own_texts(session)


def overview(session: Session, *, actor: Actor) -> reports.Overview:
    """Counts per purpose and interface, and the suppression list's size."""
    require(actor, P.CONSENT_VIEW)
    return reports.overview(session)


def verify_ledger(
    session: Session, settings: Settings, *, actor: Actor, anchor: bool = False
) -> Verdict:
    """Whether the consent log holds against its signed tree heads and those anchored outside
    the store, and where it does not; with `anchor`, an intact log's newest head is anchored."""
    require(actor, P.CONSENT_VIEW)
    return log_check.verify(session, settings, anchor=anchor)


def delivery_summary(session: Session, *, actor: Actor) -> DeliverySummary:
    """Propagation per destination, and the late and overdue deliveries."""
    require(actor, P.CONSENT_VIEW)
    return deliver.delivery_summary(session)


def list_destinations(session: Session, *, actor: Actor) -> list[ConsentDestination]:
    """The systems told of every change (no secrets)."""
    require(actor, P.CONSENT_VIEW)
    return destinations.list_destinations(session)


# One person's choices.


def recent_events(session: Session, *, actor: Actor, limit: int = 50) -> list[ConsentEvent]:
    """The newest choices, each naming its (pseudonymous) subject."""
    require(actor, P.CONSENT_READ_PERSONAL)
    return reports.recent_events(session, limit=limit)


def find(
    session: Session,
    settings: Settings,
    *,
    actor: Actor,
    email: str | None = None,
    phone: str | None = None,
    device_id: str | None = None,
    subject_id: str | None = None,
) -> Choices:
    """A subject's choices and history, by exactly one of email, phone, device_id or
    subject_id (creates nothing): recorded as a read when someone is found."""
    require(actor, P.CONSENT_READ_PERSONAL)
    subject = subjects.resolve(
        session,
        settings,
        email=email,
        phone=phone,
        device_id=device_id,
        subject_id=subject_id,
        create=False,
    )
    return read(session, actor=actor, subject=subject)


def locate(
    session: Session, settings: Settings, *, actor: Actor, email: str | None, phone: str | None
) -> ConsentSubject | None:
    """The subject with this address or number, if there is one (reads none of its choices)."""
    require(actor, P.CONSENT_READ_PERSONAL)
    return subjects.resolve(session, settings, email=email, phone=phone, create=False)


def read(session: Session, *, actor: Actor, subject: ConsentSubject | None) -> Choices:
    """`subject`'s choices and history: recorded as a read."""
    require(actor, P.CONSENT_READ_PERSONAL)
    if subject is None:
        return Choices(None, current(session, None), [])
    audit.record(
        session,
        actor=actor.name,
        action="staff.read_personal",
        subject_type="consent_subject",
        subject_id=subject.id,
        detail={"what": "choices"},
    )
    return Choices(subject, current(session, subject), ledger.history(session, subject.id))


def subject_by_id(session: Session, *, actor: Actor, subject_id: str) -> ConsentSubject:
    """A subject by its pseudonymous id; NotFoundError otherwise."""
    require(actor, P.CONSENT_READ_PERSONAL)
    return subjects.by_id(session, subject_id)


# Checks before a send: may we, and who must not be sent marketing.


def check(session: Session, settings: Settings, *, actor: Actor, **ask: Any) -> Decision:
    """May this purpose be used on this channel for this subject? Creates nothing."""
    require(actor, P.CONSENT_CHECK)
    return service.check(session, settings, **ask)


def check_held(engine: Engine, settings: Settings, *, actor: Actor, **ask: Any) -> Decision | None:
    """`check`'s answer from this process's memory alone, with no statement; None when `check`
    must be asked (which also gives every refusal and error)."""
    if not actor.can(P.CONSENT_CHECK):
        return None
    return service.check_held(engine, settings, **ask)


def suppressed_addresses(
    session: Session, settings: Settings, *, actor: Actor, emails: list[str], topic: str | None
) -> list[str]:
    """Which of these addresses may not be sent marketing (all of it, or `topic`)."""
    require(actor, P.CONSENT_CHECK)
    if topic:
        catalog.checked(session, topic, "email")
    return suppression.check_addresses(session, settings, emails, topic)


def suppressed_hashes(
    session: Session, *, actor: Actor, digests: list[str], topic: str | None
) -> set[str]:
    """Which of these SHA-256 digests of addresses may not be sent marketing."""
    require(actor, P.CONSENT_CHECK)
    if topic:
        catalog.checked(session, topic, "email")
    return suppression.check_hashes(session, digests, topic)


def suppressed_lines(
    session: Session, *, actor: Actor, chunks: Iterable[bytes], out: IO[str], topic: str | None
) -> int:
    """Write the suppressed digests among the lines in `chunks` (bytes, one digest a line, any
    number) to `out`; returns how many were checked (consent/bulk_check.py)."""
    require(actor, P.CONSENT_CHECK)
    if topic:
        catalog.checked(session, topic, "email")
    return bulk_check.suppressed_lines(session, chunks, out, topic)


def suppressed_phones(
    session: Session, settings: Settings, *, actor: Actor, phones: list[str], topic: str | None
) -> list[str]:
    """Which of these numbers may not be sent marketing texts."""
    require(actor, P.CONSENT_CHECK)
    if topic:
        catalog.checked(session, topic, "sms")
    return suppression.check_phones(session, settings, phones, topic)


def export_suppressions(session: Session, *, actor: Actor) -> Iterator[suppression.Entry]:
    """The whole suppression list (digests, never addresses)."""
    require(actor, P.CONSENT_CHECK)
    return suppression.export(session)


# Recording choices made elsewhere.


def record(
    session: Session,
    settings: Settings,
    *,
    actor: Actor,
    subject: ConsentSubject,
    choices: list[ledger.Choice],
    collected: ledger.Collected,
) -> list[ConsentEvent]:
    """Record choices a person made by post, phone, a form or a call centre."""
    require(actor, P.CONSENT_RECORD)
    return ledger.record(session, settings, subject, choices, collected)


def subject_for_record(
    session: Session,
    settings: Settings,
    *,
    actor: Actor,
    email: str | None = None,
    phone: str | None = None,
    device_id: str | None = None,
    subject_id: str | None = None,
) -> ConsentSubject:
    """The subject to record a choice for, by exactly one of email, phone, device_id or
    subject_id (created when new)."""
    require(actor, P.CONSENT_RECORD)
    subject = subjects.resolve(
        session, settings, email=email, phone=phone, device_id=device_id, subject_id=subject_id
    )
    assert subject is not None
    return subject


def check_sign_up(session: Session, *, actor: Actor, topics: list[str], source: str) -> None:
    """Check a sign-up from the company's own form before its confirmation e-mail is sent."""
    require(actor, P.CONSENT_RECORD)
    subscriptions.checked(session, topics=topics, source=source)


def record_reply(
    session: Session, settings: Settings, *, actor: Actor, phone: str, text: str
) -> sms.ReplyOutcome:
    """A text a person sent back (STOP, START, HELP), as the SMS platform forwards it."""
    require(actor, P.CONSENT_RECORD)
    return sms.record_reply(session, settings, phone=phone, text=text)


def link_phone(
    session: Session, settings: Settings, *, actor: Actor, phone: str, email: str
) -> tuple[ConsentSubject, ConsentSubject]:
    """Say a number belongs to a person; a STOP it sent earlier counts for them too."""
    require(actor, P.CONSENT_RECORD)
    person = subjects.person(session, settings, email)
    number = subjects.phone_number(session, settings, phone)
    linked.link(session, settings, number, person, "phone link")
    return number, person


# Marketing e-mail.


def unsubscribe_headers(
    session: Session, settings: Settings, *, actor: Actor, email: str, topic: str
) -> dict[str, str]:
    """RFC 2369 / RFC 8058 headers for one marketing e-mail."""
    require(actor, P.MARKETING_SEND)
    return service.unsubscribe_headers(session, settings, email=email, topic=topic)


def send_marketing(
    session: Session, settings: Settings, *, actor: Actor, **message: str
) -> OutboxMessage | None:
    """Send a marketing e-mail if the person may get it; None when suppressed."""
    require(actor, P.MARKETING_SEND)
    return service.send_marketing(session, settings, **message)


# Settings: the catalogue, destinations, deliveries, imports.


def apply_catalog(
    session: Session, *, actor: Actor, parsed: catalog.CatalogFile
) -> list[ConsentPurpose]:
    """Add or update purposes (and the banner's texts when given)."""
    require(actor, P.CONSENT_MANAGE)
    return catalog.apply(session, parsed)


def apply_destinations(
    session: Session, *, actor: Actor, text: str, name: str, http_webhooks: bool = False
) -> list[ConsentDestination] | None:
    """Set the destinations from a catalogue file's `destinations:` (None when it has none)."""
    require(actor, P.CONSENT_MANAGE)
    return destinations.apply_from_file(
        session, text, name=name, actor=actor.name, http_webhooks=http_webhooks
    )


def redeliver(session: Session, *, actor: Actor, delivery_id: int) -> ConsentDelivery:
    """Send a failed or overdue delivery again now."""
    require(actor, P.CONSENT_MANAGE)
    return deliver.redeliver(session, delivery_id, actor=actor.name)


def replay(session: Session, *, actor: Actor, destination: str) -> int:
    """Queue everyone's current choices for one destination."""
    require(actor, P.CONSENT_MANAGE)
    return propagation.replay(session, destination)


def import_stores(
    session: Session, settings: Settings, *, actor: Actor, key: str | None
) -> list[ConsentStoreImport]:
    """Run the store imports that are due (or `key`'s); each store's schedule row after it."""
    require(actor, P.CONSENT_MANAGE)
    store_import.import_due(session, settings, key=key)
    return [r for r in store_import.schedules(session) if key is None or r.destination_key == key]


def rebuild(session: Session, *, actor: Actor) -> int:
    """Derive the current state again from the ledger alone."""
    require(actor, P.CONSENT_MANAGE)
    return ledger.rebuild_states(session)


def destination_secret(settings: Settings, *, actor: Actor, key: str) -> str:
    """The secret a webhook destination checks Rightful's signatures with."""
    require(actor, P.CONSENT_MANAGE)
    return destinations.destination_secret(settings, key)
