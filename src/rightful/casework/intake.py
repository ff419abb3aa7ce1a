"""Cases that come by the privacy center's contact form or that staff enter from a call or a
letter."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from sqlalchemy.orm import Session

from rightful.casework import service
from rightful.casework.models import Case
from rightful.casework.types import Channel, Kind
from rightful.core.clock import utcnow
from rightful.core.config import Settings
from rightful.core.errors import InvalidInputError
from rightful.identity import normalize
from rightful.messaging import limits
from rightful.security.permissions import Actor, Permission, require

# The contact form shares the requests' limits: each message e-mails the address typed.
CONTACT = limits.MailLimit(
    "case-contact",
    per_address=5,
    per_client=20,
    client_message="Too many messages were sent from this connection. Try again later.",
    address_message="We have had several messages from this e-mail address in the last hour. "
    "Try again in an hour.",
)
PUBLIC_KINDS = (Kind.QUESTION, Kind.CONCERN, Kind.COMPLAINT)


def _kind(value: str, allowed: tuple[Kind, ...]) -> Kind:
    if value not in {k.value for k in allowed}:
        raise InvalidInputError(
            "Choose what this is about.", errors=[{"field": "kind", "message": "Choose one."}]
        )
    return Kind(value)


def _text(value: str) -> str:
    text = value.strip()
    if len(text) < 10:
        raise InvalidInputError(
            "Tell us a little more.",
            errors=[{"field": "message", "message": "Write your message (at least a sentence)."}],
        )
    if len(text) > 10_000:
        raise InvalidInputError(
            "The message is too long.",
            errors=[{"field": "message", "message": "Shorten it to 10,000 characters."}],
        )
    return text


def _email(value: str, *, required: bool) -> str:
    if not value.strip() and not required:
        return ""
    try:
        return normalize.email(value)
    except InvalidInputError:
        raise InvalidInputError(
            "Check the e-mail address.",
            errors=[
                {"field": "email", "message": "Enter an e-mail address like name@example.com."}
            ],
        ) from None


def from_contact_form(
    session: Session,
    settings: Settings,
    *,
    kind: str,
    message: str,
    email: str,
    client: str | None,
    language: str,
) -> Case:
    """A question, concern or complaint from the privacy center; acknowledged by e-mail."""
    errors: list[dict[str, str]] = []
    checked = []
    for check, value in ((lambda v: _kind(v, PUBLIC_KINDS), kind), (_text, message)):
        try:
            checked.append(check(value))
        except InvalidInputError as exc:
            errors += exc.errors
    try:
        address = _email(email, required=True)
    except InvalidInputError as exc:
        errors += exc.errors
    if errors:  # every problem at once, for the form's error summary
        raise InvalidInputError("Some details need attention.", errors=errors)
    chosen, text = Kind(checked[0]), str(checked[1])
    limits.check(session, settings, CONTACT, address=address, client=client)
    case = service.open_case(
        session,
        settings,
        service.Incoming(email=address, text=text),
        kind=chosen,
        channel=Channel.WEB.value,
        actor="consumer",
        language=language,
    )
    service.acknowledge(session, settings, case)
    return case


def by_staff(
    session: Session,
    settings: Settings,
    *,
    actor: Actor,
    kind: str,
    channel: str,
    message: str,
    email: str = "",
    name: str = "",
    received_on: date | None = None,
) -> Case:
    """A call or a letter, written down by staff; the response target runs from the day it
    came. Acknowledged by e-mail when the person gave an address."""
    require(actor, Permission.REQUESTS_SUBMIT)
    chosen = _kind(kind, tuple(Kind))
    if channel not in (Channel.PHONE.value, Channel.POST.value, Channel.CONSOLE.value):
        raise InvalidInputError(
            "Choose how it came.", errors=[{"field": "channel", "message": "Choose one."}]
        )
    today = utcnow().date()
    if received_on is not None and (received_on > today or received_on < date(2022, 1, 1)):
        raise InvalidInputError(
            "Check the date.",
            errors=[{"field": "received_on", "message": "Not in the future, not before 2022."}],
        )
    received: datetime | None = None
    if received_on is not None and received_on != today:
        received = datetime.combine(received_on, time(12), tzinfo=UTC)
    case = service.open_case(
        session,
        settings,
        service.Incoming(
            email=_email(email, required=False), name=name.strip()[:200], text=_text(message)
        ),
        kind=chosen,
        channel=channel,
        actor=actor.name,
        received_at=received,
    )
    service.acknowledge(session, settings, case)
    return case
