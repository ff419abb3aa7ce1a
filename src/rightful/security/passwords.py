"""Staff passwords and API tokens, hashed with Argon2id."""

from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_hasher = PasswordHasher()


@cache
def _dummy_hash() -> str:
    # Verified against when a user does not exist, so timing reveals nothing about accounts.
    # Made at the first sign-in, not at import: an Argon2 hash costs a server's start ~0.1 s.
    return _hasher.hash("rightful-dummy-password")


def hash_secret(secret: str) -> str:
    """An Argon2id hash of a password or token."""
    return _hasher.hash(secret)


def verify_secret(stored_hash: str | None, secret: str) -> bool:
    """True when `secret` matches; spends the same effort when there is no hash."""
    try:
        return _hasher.verify(stored_hash or _dummy_hash(), secret) and stored_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
