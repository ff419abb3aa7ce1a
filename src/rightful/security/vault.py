"""Encryption at rest: Fernet keys derived per purpose from the one secret key."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from rightful.core.errors import ConfigurationError


class Vault:
    """Encrypts and decrypts values for one purpose (connection secrets, identities, packages)."""

    def __init__(self, secret_key: str, purpose: str) -> None:
        key = HKDF(
            algorithm=hashes.SHA256(), length=32, salt=b"rightful-vault", info=purpose.encode()
        ).derive(secret_key.encode())
        self._fernet = Fernet(base64.urlsafe_b64encode(key))

    def encrypt(self, data: bytes) -> bytes:
        """Authenticated encryption of raw bytes."""
        return self._fernet.encrypt(data)

    def decrypt(self, token: bytes) -> bytes:
        """Decrypt bytes written by `encrypt`; a wrong key is a configuration problem."""
        try:
            return self._fernet.decrypt(token)
        except InvalidToken as exc:
            raise ConfigurationError(
                "Stored data cannot be decrypted: RIGHTFUL_SECRET_KEY changed since it was written."
            ) from exc

    def encrypt_json(self, value: Any) -> str:
        """Encrypt a JSON-serialisable value to text for a database column."""
        return self.encrypt(json.dumps(value, default=str).encode()).decode()

    def decrypt_json(self, token: str) -> Any:
        """Inverse of `encrypt_json`."""
        return json.loads(self.decrypt(token.encode()))


def keyed_hash(secret_key: str, purpose: str, value: str) -> str:
    """An HMAC-SHA256 of a value: lets us count or match without keeping the value."""
    return hmac.new(f"{purpose}:{secret_key}".encode(), value.encode(), hashlib.sha256).hexdigest()
