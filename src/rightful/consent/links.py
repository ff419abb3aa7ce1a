"""Signed links for consent: one-click unsubscribe, the preference center, list removal.

Tokens carry a pseudonymous subject id and a purpose key, never an address. Unsubscribe tokens
work for over a year, because old e-mails stay in inboxes; the others are short-lived.
"""

from __future__ import annotations

from dataclasses import dataclass

from rightful.core.config import Settings
from rightful.core.errors import VerificationError
from rightful.security.tokens import LinkSigner

UNSUBSCRIBE_SECONDS = 400 * 86400
PREFERENCES_SECONDS = 24 * 3600
LIST_REMOVAL_SECONDS = 24 * 3600


@dataclass(frozen=True)
class UnsubscribeTarget:
    """Who unsubscribes, from what."""

    subject_id: str
    topic: str


def unsubscribe_token(settings: Settings, subject_id: str, topic: str) -> str:
    """An opaque token for one recipient and topic."""
    return LinkSigner(settings.secret_key, "unsubscribe").sign(f"{subject_id}:{topic}")


def unsubscribe_target(settings: Settings, token: str) -> UnsubscribeTarget:
    """The recipient and topic inside a valid token."""
    value = LinkSigner(settings.secret_key, "unsubscribe").unsign(
        token, max_age_seconds=UNSUBSCRIBE_SECONDS
    )
    subject_id, _, topic = value.partition(":")
    if not subject_id or not topic:
        raise VerificationError("This link is not valid. Check that it was copied whole.")
    return UnsubscribeTarget(subject_id, topic)


def unsubscribe_url(settings: Settings, token: str) -> str:
    """Where the one-click POST (and a person's click) goes."""
    return f"{settings.base_url}/unsubscribe/{token}"


def list_unsubscribe_headers(settings: Settings, token: str) -> dict[str, str]:
    """RFC 2369 and RFC 8058 headers for a marketing message."""
    return {
        "List-Unsubscribe": f"<{unsubscribe_url(settings, token)}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }


def preferences_token(settings: Settings, subject_id: str) -> str:
    """A magic link token that opens the preference center for one person."""
    return LinkSigner(settings.secret_key, "preferences").sign(subject_id)


def preferences_subject(settings: Settings, token: str) -> str:
    """The person a valid preference link is for."""
    return LinkSigner(settings.secret_key, "preferences").unsign(
        token, max_age_seconds=PREFERENCES_SECONDS
    )


def list_removal_token(settings: Settings, subject_id: str) -> str:
    """The confirmation token e-mailed from the list-removal page."""
    return LinkSigner(settings.secret_key, "list-removal").sign(subject_id)


def list_removal_subject(settings: Settings, token: str) -> str:
    """The person confirming their removal."""
    return LinkSigner(settings.secret_key, "list-removal").unsign(
        token, max_age_seconds=LIST_REMOVAL_SECONDS
    )
