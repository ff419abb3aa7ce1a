"""Signed assertions from the company's own site: "this signed-in customer is <e-mail>".

The site signs a short-lived JWT (HS256 with a shared secret, or RS256/ES256 with its private
key) and posts it to the preference center, so account holders need no e-mailed link.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import jwt

from rightful.core.config import Settings
from rightful.core.errors import ConfigurationError, VerificationError

MAX_LIFETIME_SECONDS = 600


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
    device_id: str | None = None


def verified(settings: Settings, assertion: str) -> SignedIn:
    """The person a valid, unexpired assertion meant for us names."""
    key, algorithms = _key_and_algorithms(settings)
    try:
        claims: dict[str, Any] = jwt.decode(
            assertion,
            key,
            algorithms=algorithms,
            audience=settings.base_url,
            issuer=settings.preference_jwt_issuer or None,
            options={"require": ["exp", "iat", "aud", "email"]},
            leeway=30,
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
        str(claims["email"]), str(phone) if phone else None, str(device) if device else None
    )


def issue(
    settings: Settings,
    email: str,
    *,
    lifetime: int = 300,
    phone_number: str | None = None,
    device_id: str | None = None,
) -> str:
    """An assertion as the company's site would make it (used by the demo store and tests)."""
    now = int(time.time())
    claims = {
        **({"phone_number": phone_number} if phone_number else {}),
        **({"device_id": device_id} if device_id else {}),
        "email": email,
        "aud": settings.base_url,
        "iat": now,
        "exp": now + lifetime,
        **({"iss": settings.preference_jwt_issuer} if settings.preference_jwt_issuer else {}),
    }
    return jwt.encode(claims, settings.preference_jwt_secret, algorithm="HS256")
