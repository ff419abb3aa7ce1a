"""Signatures others can check: Ed25519 keys for what Rightful publishes (the consent log's
signed tree heads).

Not a second key store. A signing key is derived from a data-key version (`Keyring.signing_key`
in keys.py), so only whoever holds RIGHTFUL_SECRET_KEY or the key-encryption key can sign, and
`rightful keys rotate` moves signing to a new key as it moves encryption. The public half is
recorded here the first time a key signs and is never removed: when its version is retired the
private half is gone, but everything it signed still verifies against the published keys.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from datetime import datetime

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from rightful.core.clock import utcnow
from rightful.core.config import Settings
from rightful.core.errors import ConfigurationError
from rightful.security.keys import keyring
from rightful.security.models import SigningKey

CONSENT_LOG = "consent-log"


@dataclass(frozen=True)
class Signer:
    """The key new signatures of one purpose are made with."""

    key_id: str
    private: Ed25519PrivateKey

    def sign(self, message: bytes) -> str:
        """An Ed25519 signature, base64."""
        return base64.b64encode(self.private.sign(message)).decode()


@dataclass(frozen=True)
class PublicKey:
    """A published key: what a verifier needs, and whether it still signs."""

    key_id: str
    public_key: str  # raw Ed25519, base64
    data_key_version: int
    created_at: datetime


def raw_public(private: Ed25519PrivateKey) -> bytes:
    """The 32 raw bytes of a key's public half."""
    return private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def key_id_of(public_raw: bytes) -> str:
    """A key's id: the SHA-256 of its public half, hex (as RFC 9162 names a log by its key)."""
    return hashlib.sha256(public_raw).hexdigest()


def signer(session: Session, settings: Settings, purpose: str) -> Signer:
    """The current data-key version's signing key for `purpose`, its public half recorded."""
    ring = keyring(settings)
    version = ring.current()
    private = ring.signing_key(version, purpose)
    raw = raw_public(private)
    key_id = key_id_of(raw)
    if session.get(SigningKey, key_id) is None:
        insert = sqlite_insert if session.get_bind().dialect.name == "sqlite" else pg_insert
        row = {
            "key_id": key_id,
            "purpose": purpose,
            "data_key_version": version,
            "public_key": base64.b64encode(raw).decode(),
            "created_at": utcnow(),
        }
        session.execute(insert(SigningKey).values(row).on_conflict_do_nothing())
    return Signer(key_id, private)


def published(session: Session, purpose: str) -> list[PublicKey]:
    """Every public key that ever signed for `purpose`, oldest first."""
    rows = session.scalars(
        select(SigningKey).where(SigningKey.purpose == purpose).order_by(SigningKey.created_at)
    )
    return [PublicKey(r.key_id, r.public_key, r.data_key_version, r.created_at) for r in rows]


def is_genuine(settings: Settings, key: PublicKey, purpose: str) -> bool | None:
    """Whether a recorded public key is the one its data-key version derives (None when that
    version is retired and can no longer say): a key added to the table by hand is not."""
    ring = keyring(settings)
    try:
        derived = raw_public(ring.signing_key(key.data_key_version, purpose))
    except (
        ConfigurationError
    ):  # retired or unknown version: only the published copy can speak for it
        return None
    return base64.b64encode(derived).decode() == key.public_key


def verify(public_key_b64: str, signature_b64: str, message: bytes) -> bool:
    """Whether `signature_b64` is a valid Ed25519 signature of `message` by the key."""
    try:
        key = Ed25519PublicKey.from_public_bytes(base64.b64decode(public_key_b64, validate=True))
        key.verify(base64.b64decode(signature_b64, validate=True), message)
    except (InvalidSignature, ValueError):
        return False
    return True
