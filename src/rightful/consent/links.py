"""Signed links for consent: one-click unsubscribe, the preference center, list removal.

Tokens carry a pseudonymous subject id and a purpose key, never an address. Unsubscribe tokens
work for over a year, because old e-mails stay in inboxes; the others are short-lived. A
preference-center link signs its holder in, so it also carries a random id (`jti`) and works
once (security/replay.py).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.orm import Session

from rightful.core.clock import utcnow
from rightful.core.config import Settings
from rightful.core.errors import VerificationError
from rightful.security import replay
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
    """A one-time magic link token that opens the preference center for one person."""
    jti = secrets.token_urlsafe(16)
    return LinkSigner(settings.secret_key, "preferences").sign(f"{subject_id}:{jti}")


def _preferences_link(settings: Settings, token: str) -> tuple[str, str]:
    value = LinkSigner(settings.secret_key, "preferences").unsign(
        token, max_age_seconds=PREFERENCES_SECONDS
    )
    subject_id, _, jti = value.partition(":")
    if not subject_id or not jti:  # a link from before links worked once
        raise VerificationError("This link has expired. Ask for a new one.")
    return subject_id, jti


def preferences_subject(settings: Settings, token: str) -> str:
    """The person a valid preference link is for (only reads: the link stays unused)."""
    return _preferences_link(settings, token)[0]


def use_preferences_link(session: Session, settings: Settings, token: str) -> str:
    """The person a valid, unused preference link is for; the link is spent (flushes only)."""
    subject_id, jti = _preferences_link(settings, token)
    until = utcnow() + timedelta(seconds=PREFERENCES_SECONDS)
    if not replay.spend(session, purpose="preferences-link", jti=jti, expires_at=until):
        raise VerificationError("This link has already been used. Ask for a new one.")
    return subject_id


def list_removal_token(settings: Settings, subject_id: str) -> str:
    """The confirmation token e-mailed from the list-removal page."""
    return LinkSigner(settings.secret_key, "list-removal").sign(subject_id)


def list_removal_subject(settings: Settings, token: str) -> str:
    """The person confirming their removal."""
    return LinkSigner(settings.secret_key, "list-removal").unsign(
        token, max_age_seconds=LIST_REMOVAL_SECONDS
    )
