"""What the privacy center, console, API and CLI ask of consent: one function per action."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from rightful.consent import catalog, check_cache, ledger, links, snapshot, subjects
from rightful.consent.catalog import Channel, Interface, State
from rightful.consent.ledger import Choice, Collected
from rightful.consent.models import ConsentEvent, ConsentSubject
from rightful.consent.snapshot import Purpose
from rightful.consent.state import Decision, Looked, decide_from
from rightful.consent.subjects import email_sha256
from rightful.consent.suppression import erased_digest
from rightful.core import i18n
from rightful.core.config import Settings
from rightful.core.errors import InvalidInputError, NotFoundError
from rightful.messaging.models import OutboxMessage
from rightful.messaging.service import queue_email, queue_message


def check(
    session: Session,
    settings: Settings,
    *,
    purpose: str,
    channel: str,
    email: str | None = None,
    device_id: str | None = None,
    subject_id: str | None = None,
    phone: str | None = None,
) -> Decision:
    """May this purpose be used on this channel for this person, phone number or device?
    Creates nothing.

    One statement: the subject, its states, the suppression lists and the catalogue's revision
    together; the purpose comes from the process's cached catalogue, read again only when that
    revision says it changed (consent/snapshot.py). With RIGHTFUL_CONSENT_CACHE_SECONDS on a
    PostgreSQL store, none while this process holds a recent answer (consent/check_cache.py)."""
    try:
        snapshot.last_known(session).checked(purpose, channel)
    except InvalidInputError:  # perhaps added since this process last read the catalogue
        snapshot.current(session).checked(purpose, channel)
    asked = _looked_by(settings, purpose, channel, email, device_id, subject_id, phone)
    found = check_cache.look_up(session, settings, **asked)
    row = snapshot.at(session, found.revision).checked(purpose, channel)
    if subject_id and found.subject_id is None:
        raise NotFoundError("There is no such consent subject.")
    return _decided(found, row, channel)


def check_held(
    engine: Engine,
    settings: Settings,
    *,
    purpose: str,
    channel: str,
    email: str | None = None,
    device_id: str | None = None,
    subject_id: str | None = None,
    phone: str | None = None,
) -> Decision | None:
    """`check`'s answer from this process's memory alone (the catalogue and an answer the check
    cache holds for it), with no session and no statement; None when `check` must be asked,
    which also gives every error."""
    catalogue = snapshot.held_for(engine)
    if catalogue is None:
        return None
    row = catalogue.purposes.get(purpose)
    if row is None or channel not in row.channels:
        return None
    try:
        asked = _looked_by(settings, purpose, channel, email, device_id, subject_id, phone)
    except InvalidInputError:
        return None
    found = check_cache.held(engine, settings, revision=catalogue.revision, **asked)
    if found is None or (subject_id and found.subject_id is None):
        return None
    return _decided(found, row, channel)


def _looked_by(
    settings: Settings,
    purpose: str,
    channel: str,
    email: str | None,
    device_id: str | None,
    subject_id: str | None,
    phone: str | None,
) -> dict[str, Any]:
    """What a check looks its subject up by (`check_cache.look_up`'s arguments)."""
    lookup = subjects.lookup_hash(
        settings, email=email, device_id=device_id, subject_id=subject_id, phone=phone
    )
    listing = None
    if email and channel == Channel.EMAIL:  # marketing or not is known for sure later
        listing = (email_sha256(email), purpose, erased_digest(settings, email))
    return {"lookup_hash": lookup, "subject_id": subject_id, "suppression": listing}


def _decided(found: Looked, row: Purpose, channel: str) -> Decision:
    if found.suppressed and row.kind == "marketing":
        return Decision(False, State.WITHDRAWN.value, "on the suppression list")
    return decide_from(found.explicit, row, channel)


def unsubscribe_headers(
    session: Session, settings: Settings, *, email: str, topic: str
) -> dict[str, str]:
    """List-Unsubscribe headers for one recipient and topic (the person is created if new)."""
    row = catalog.checked(session, topic, Channel.EMAIL)
    if row.kind != "marketing":
        raise InvalidInputError(
            f"'{topic}' is not a marketing topic.",
            errors=[{"field": "topic", "message": "Use a marketing topic's key."}],
        )
    person = subjects.person(session, settings, email)
    return links.list_unsubscribe_headers(
        settings, links.unsubscribe_token(settings, person.id, topic)
    )


@dataclass(frozen=True)
class Unsubscribed:
    """What an unsubscribe did."""

    topic: str
    title: str
    everything: bool
    events: list[ConsentEvent]


def unsubscribe(
    session: Session,
    settings: Settings,
    *,
    token: str,
    everything: bool = False,
    one_click: bool = False,
) -> Unsubscribed:
    """Withdraw the token's topic on e-mail (or all marketing e-mail). Repeats change nothing."""
    target = links.unsubscribe_target(settings, token)
    person = subjects.by_id(session, target.subject_id)
    purpose = catalog.ALL_MARKETING if everything else target.topic
    row = catalog.checked(session, purpose, Channel.EMAIL)
    proof = {"method": "RFC 8058 one-click POST" if one_click else "confirmation page"}
    events = ledger.record(
        session,
        settings,
        person,
        [Choice(purpose, Channel.EMAIL, State.WITHDRAWN)],
        Collected(interface=Interface.UNSUBSCRIBE_LINK, proof=proof),
    )
    return Unsubscribed(purpose, row.title, everything, events)


def unsubscribe_topic(session: Session, settings: Settings, token: str) -> str:
    """The title of the topic a link unsubscribes from (for the confirmation page)."""
    target = links.unsubscribe_target(settings, token)
    row = catalog.checked(session, target.topic, Channel.EMAIL)
    return row.title


def send_preferences_link(
    session: Session, settings: Settings, *, email: str, language: str = i18n.DEFAULT
) -> None:
    """E-mail a magic link to whoever owns this address, in the language of the page they
    asked on; the answer never says if we know them."""
    person = subjects.person(session, settings, email)
    token = links.preferences_token(settings, person.id)
    queue_email(
        session,
        settings,
        to=subjects.email_of(settings, person) or email,
        template="preferences_link",
        context={"url": f"{settings.base_url}/preferences/open/{token}", "hours": 24},
        language=language,
    )


def send_list_removal_link(
    session: Session, settings: Settings, *, email: str, language: str = i18n.DEFAULT
) -> None:
    """E-mail the confirmation link that takes an address off every marketing list."""
    person = subjects.person(session, settings, email)
    token = links.list_removal_token(settings, person.id)
    queue_email(
        session,
        settings,
        to=subjects.email_of(settings, person) or email,
        template="list_removal",
        context={"url": f"{settings.base_url}/list-removal/confirm/{token}", "hours": 24},
        language=language,
    )


def confirm_list_removal(
    session: Session, settings: Settings, *, token: str, proof: dict[str, str]
) -> ConsentSubject:
    """Suppress the address globally: no marketing on any channel."""
    person = subjects.by_id(session, links.list_removal_subject(settings, token))
    catalog.ensure_built_in(session)
    ledger.record(
        session,
        settings,
        person,
        ledger.no_marketing(),
        Collected(interface=Interface.LIST_REMOVAL, proof=proof),
    )
    return person


def send_marketing(
    session: Session,
    settings: Settings,
    *,
    to: str,
    topic: str,
    subject: str,
    text: str,
    html: str,
) -> OutboxMessage | None:
    """Send one marketing e-mail through Rightful's outbox, with unsubscribe headers and a
    footer link; None (nothing sent) when the person may not get this topic."""
    if not check(session, settings, purpose=topic, channel=Channel.EMAIL, email=to).allowed:
        return None
    headers = unsubscribe_headers(session, settings, email=to, topic=topic)
    link = headers["List-Unsubscribe"].strip("<>")
    footer_text = f"\n\n--\nUnsubscribe from these e-mails: {link}\n"
    footer_html = f'<hr><p><a href="{link}">Unsubscribe from these e-mails</a></p>'
    return queue_message(
        session,
        settings,
        to=to,
        subject=subject,
        text=text + footer_text,
        html=html + footer_html,
        template=f"marketing:{topic}",
        headers=headers,
    )


def person_for_session(session: Session, subject_id: str | None) -> ConsentSubject:
    """The person a preference-center session belongs to."""
    if not subject_id:
        raise NotFoundError("Open the preference center from your e-mailed link or your account.")
    return subjects.by_id(session, subject_id)
