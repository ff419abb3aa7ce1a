"""Signed assertions from the company's own site: "this signed-in customer is <e-mail>".

The site signs a short-lived JWT (HS256 with a shared secret, or RS256/ES256 with its private
key) and posts it to the preference center, so account holders need no e-mailed link. Each
assertion signs in once: its `jti` (or, for a site that sends none, a digest of its claims) is
spent in the replay cache until it expires (security/replay.py).
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from rightful.core.config import Settings
from rightful.core.errors import ConfigurationError, VerificationError
from rightful.security import replay

MAX_LIFETIME_SECONDS = 600
LEEWAY_SECONDS = 30


def _key_and_algorithms(settings: Settings) -> tuple[str, list[str]]:
    if settings.preference_jwt_public_key:
        return settings.preference_jwt_public_key, ["RS256", "ES256"]
    if settings.preference_jwt_secret:
        return settings.preference_jwt_secret, ["HS256"]
    raise ConfigurationError(
        "Sign-in from your site is not set up: set RIGHTFUL_PREFERENCE_JWT_SECRET "
        "or RIGHTFUL_PREFERENCE_JWT_PUBLIC_KEY."
    )


@dataclass(frozen=True)
class SignedIn:
    """Who a valid assertion names: their address and, when the site sends the standard
    `phone_number` claim, their number (linked to them for texts); with a `device_id` claim,
    the id consent.js keeps for the browser they are using (linked to them)."""

    email: str
    phone_number: str | None
    device_id: str | None
    jti: str  # what the replay cache spends
    expires_at: datetime  # until when it must be remembered as spent


def _token_id(claims: dict[str, Any]) -> str:
    """The assertion's `jti`; without one, a digest of every claim stands in (the decoded
    claims, not the token's text, so a re-encoded copy of the same assertion is the same)."""
    if claims.get("jti"):
        return f"jti:{claims['jti']}"
    return "claims:" + hashlib.sha256(json.dumps(claims, sort_keys=True).encode()).hexdigest()


def verified(settings: Settings, assertion: str) -> SignedIn:
    """The person a valid, unexpired assertion meant for us names (only reads: see sign_in)."""
    import jwt  # when first used: the server's start does not wait for it

    key, algorithms = _key_and_algorithms(settings)
    try:
        claims: dict[str, Any] = jwt.decode(
            assertion,
            key,
            algorithms=algorithms,
            audience=settings.base_url,
            issuer=settings.preference_jwt_issuer or None,
            options={"require": ["exp", "iat", "aud", "email"]},
            leeway=LEEWAY_SECONDS,
        )
    except jwt.ExpiredSignatureError as exc:
        raise VerificationError(
            "Your sign-in has expired. Go back to your account and retry."
        ) from exc
    except jwt.PyJWTError as exc:
        raise VerificationError(
            "We could not confirm your sign-in. Go back and try again."
        ) from exc
    if int(claims["exp"]) - int(claims["iat"]) > MAX_LIFETIME_SECONDS:
        raise VerificationError("This sign-in lasts too long to be accepted; ask for a new one.")
    phone, device = claims.get("phone_number"), claims.get("device_id")
    return SignedIn(
        str(claims["email"]),
        str(phone) if phone else None,
        str(device) if device else None,
        jti=_token_id(claims),
        expires_at=datetime.fromtimestamp(int(claims["exp"]) + LEEWAY_SECONDS, UTC),
    )


def sign_in(session: Session, settings: Settings, assertion: str) -> SignedIn:
    """The person a valid assertion names; the assertion is spent, so it never works twice."""
    who = verified(settings, assertion)
    if not replay.spend(session, purpose="site-assertion", jti=who.jti, expires_at=who.expires_at):
        raise VerificationError(
            "This sign-in has already been used. Go back to your account and try again."
        )
    return who


def issue(
    settings: Settings,
    email: str,
    *,
    lifetime: int = 300,
    phone_number: str | None = None,
    device_id: str | None = None,
) -> str:
    """An assertion as the company's site would make it (used by the demo store and tests)."""
    import jwt

    now = int(time.time())
    claims = {
        **({"phone_number": phone_number} if phone_number else {}),
        **({"device_id": device_id} if device_id else {}),
        "email": email,
        "jti": secrets.token_urlsafe(16),
        "aud": settings.base_url,
        "iat": now,
        "exp": now + lifetime,
        **({"iss": settings.preference_jwt_issuer} if settings.preference_jwt_issuer else {}),
    }
    return jwt.encode(claims, settings.preference_jwt_secret, algorithm="HS256")
