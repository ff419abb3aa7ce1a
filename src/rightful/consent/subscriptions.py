"""Double opt-in: a sign-up for marketing e-mail counts only once the address's owner confirms
it from the e-mail we send, so nobody is subscribed by someone else typing their address.

The confirmation link carries the pseudonymous subject, the topics and when they were asked
for; it works for seven days, once, and only a button press on its page records anything (mail
scanners open links). The ledger keeps as proof where the sign-up came from, when it was asked
for and when it was confirmed. If the person had stopped all marketing by e-mail, confirming
resumes it for the confirmed topics only: every other topic is recorded as withdrawn.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from rightful.consent import catalog, ledger, subjects
from rightful.consent.catalog import Channel, Interface, State
from rightful.consent.models import ConsentEvent
from rightful.consent.state import current
from rightful.core import i18n
from rightful.core.clock import utcnow
from rightful.core.config import Settings
from rightful.core.errors import InvalidInputError, VerificationError
from rightful.messaging.service import queue_email
from rightful.security import replay
from rightful.security.tokens import LinkSigner

CONFIRM_SECONDS = 7 * 86400
SOURCE = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,39}$")


@dataclass(frozen=True)
class Pending:
    """A sign-up waiting for its confirmation, as its link carries it."""

    subject_id: str
    topics: tuple[str, ...]
    requested_at: datetime
    source: str
    jti: str  # spent when confirmed, so the link works once


def _signer(settings: Settings) -> LinkSigner:
    return LinkSigner(settings.secret_key, "subscribe")


def _invalid(message: str, field: str) -> InvalidInputError:
    return InvalidInputError(message, errors=[{"field": field, "message": message}])


def checked(session: Session, *, topics: list[str], source: str) -> tuple[str, ...]:
    """The topics of a valid sign-up, without repeats; a clear error for anything else."""
    if not SOURCE.match(source):
        raise _invalid("A source is a short key such as 'footer-form' or 'checkout'.", "source")
    if not topics:
        raise _invalid("Name at least one topic.", "topics")
    for key in topics:
        row = catalog.checked(session, key, Channel.EMAIL)
        if row.kind != "marketing" or key == catalog.ALL_MARKETING:
            raise _invalid(f"'{key}' is not a marketing topic one can subscribe to.", "topics")
    return tuple(dict.fromkeys(topics))


def request(
    session: Session,
    settings: Settings,
    *,
    email: str,
    topics: list[str],
    source: str,
    language: str = i18n.DEFAULT,
) -> None:
    """E-mail the confirmation link for a sign-up (flushes only); records no choice yet."""
    wanted = checked(session, topics=topics, source=source)
    person = subjects.person(session, settings, email)
    asked = int(utcnow().timestamp())
    jti = secrets.token_urlsafe(12)
    token = _signer(settings).sign(f"{person.id}|{','.join(wanted)}|{asked}|{source}|{jti}")
    queue_email(
        session,
        settings,
        to=subjects.email_of(settings, person) or email,
        template="subscription_confirm",
        context={
            "url": f"{settings.base_url}/subscribe/confirm/{token}",
            "topics": titles(session, wanted),
            "days": CONFIRM_SECONDS // 86400,
        },
        language=language,
    )


def titles(session: Session, topics: tuple[str, ...]) -> list[str]:
    """The topics as people read them."""
    return [catalog.checked(session, key, Channel.EMAIL).title for key in topics]


def pending(settings: Settings, token: str) -> Pending:
    """What a valid confirmation link asks for."""
    value = _signer(settings).unsign(token, max_age_seconds=CONFIRM_SECONDS)
    parts = value.split("|")
    if len(parts) not in (4, 5) or not parts[1] or not parts[2].isdigit():
        raise VerificationError("This link is not valid. Check that it was copied whole.")
    asked = datetime.fromtimestamp(int(parts[2]), UTC)
    # A link sent before links carried an id is told apart by all it holds (when it was asked).
    jti = parts[4] if len(parts) == 5 else value
    return Pending(parts[0], tuple(parts[1].split(",")), asked, parts[3], jti)


def confirm(session: Session, settings: Settings, wanted: Pending) -> list[ConsentEvent]:
    """Record the confirmed sign-up (flushes only). The link works once: pressed again, even
    after the person unsubscribed, it records nothing and says it was used."""
    until = wanted.requested_at + timedelta(seconds=CONFIRM_SECONDS)
    if not replay.spend(session, purpose="subscription", jti=wanted.jti, expires_at=until):
        raise VerificationError(
            "This sign-up was already confirmed with this link. To change what you get, "
            "use the preference center."
        )
    person = subjects.by_id(session, wanted.subject_id)
    catalog.ensure_built_in(session)
    choices = [ledger.Choice(key, Channel.EMAIL, State.GIVEN) for key in wanted.topics]
    now_email = {c.purpose: c for c in current(session, person) if c.channel == Channel.EMAIL}
    paused = now_email.get(catalog.ALL_MARKETING)
    if paused is not None and paused.state == State.WITHDRAWN:
        choices.append(ledger.Choice(catalog.ALL_MARKETING, Channel.EMAIL, State.GIVEN))
        for key, c in now_email.items():
            others = key not in wanted.topics and key != catalog.ALL_MARKETING
            if others and c.state == State.GIVEN:
                choices.append(ledger.Choice(key, Channel.EMAIL, State.WITHDRAWN))
    proof = {
        "method": "double opt-in: confirmed from the e-mailed link",
        "source": wanted.source,
        "requested_at": wanted.requested_at.isoformat(),
    }
    collected = ledger.Collected(interface=Interface.DOUBLE_OPT_IN, proof=proof)
    return ledger.record(session, settings, person, choices, collected)
