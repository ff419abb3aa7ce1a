"""Encryption at rest: one vault per purpose, over versioned data keys (security/keys.py).

A ciphertext names the data-key version that sealed it: `v2:<Fernet token>`. Version 1's carry
no prefix, as everything Rightful wrote before keys had versions, so those stay readable. Every
version the store still holds decrypts; new data gets the newest.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from cryptography.fernet import InvalidToken

from rightful.core.config import Settings
from rightful.core.errors import ConfigurationError
from rightful.security.keys import DERIVED, keyring

SEALED = "sealed"  # the Column.info key naming the purpose of a column that holds ciphertexts


def sealed(purpose: str) -> dict[str, str]:
    """`info=` for a column holding a vault's ciphertexts, so `rightful keys rotate` finds it."""
    return {SEALED: purpose}


def version_of(token: bytes | str) -> int:
    """The data-key version a ciphertext was sealed with."""
    raw = token.encode() if isinstance(token, str) else token
    if raw[:1] == b"v":
        head, sep, _ = raw[:12].partition(b":")
        if sep and head[1:].isdigit():
            return int(head[1:])
    return DERIVED


def _body(raw: bytes) -> bytes:
    return raw if raw[:1] != b"v" else raw.partition(b":")[2]


class Vault:
    """Encrypts and decrypts values for one purpose (connection secrets, identities, packages)."""

    def __init__(self, settings: Settings, purpose: str) -> None:
        self._ring = keyring(settings)
        self._purpose = purpose

    def encrypt(self, data: bytes, *, version: int | None = None) -> bytes:
        """Authenticated encryption of raw bytes with the newest key (or `version`)."""
        version = version or self._ring.current()
        token = self._ring.fernet(version, self._purpose).encrypt(data)
        return token if version == DERIVED else b"v%d:%s" % (version, token)

    def decrypt(self, token: bytes) -> bytes:
        """Decrypt bytes written by `encrypt`, with whichever version sealed them."""
        version = version_of(token)
        try:
            return self._ring.fernet(version, self._purpose).decrypt(_body(token))
        except InvalidToken as exc:
            why = (
                "RIGHTFUL_SECRET_KEY changed since it was written"
                if version == DERIVED
                else f"data key version {version} does not open it"
            )
            raise ConfigurationError(f"Stored data cannot be decrypted: {why}.") from exc

    def reseal(self, token: bytes, version: int) -> bytes:
        """The same plaintext, sealed with `version` (a key rotation)."""
        return self.encrypt(self.decrypt(token), version=version)

    def encrypt_json(self, value: Any) -> str:
        """Encrypt a JSON-serialisable value to text for a database column."""
        return self.encrypt(json.dumps(value, default=str).encode()).decode()

    def decrypt_json(self, token: str) -> Any:
        """Inverse of `encrypt_json`."""
        return json.loads(self.decrypt(token.encode()))


def keyed_hash(secret_key: str, purpose: str, value: str) -> str:
    """An HMAC-SHA256 of a value: lets us count or match without keeping the value."""
    return hmac.new(f"{purpose}:{secret_key}".encode(), value.encode(), hashlib.sha256).hexdigest()
