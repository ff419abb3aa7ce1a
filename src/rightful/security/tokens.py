"""Signed, expiring tokens for links: they carry ids, never personal data."""

from __future__ import annotations

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from rightful.core.errors import VerificationError
from rightful.core.i18n import N_


class LinkSigner:
    """Signs an id for one purpose; a link for one purpose never opens another."""

    def __init__(self, secret_key: str, purpose: str) -> None:
        self._serializer = URLSafeTimedSerializer(secret_key, salt=f"rightful-link:{purpose}")

    def sign(self, subject_id: str) -> str:
        """A URL-safe token for `subject_id`."""
        return str(self._serializer.dumps(subject_id))

    def unsign(self, token: str, *, max_age_seconds: int) -> str:
        """The id inside a valid token, or VerificationError when tampered or expired."""
        try:
            return str(self._serializer.loads(token, max_age=max_age_seconds))
        except SignatureExpired as exc:
            raise VerificationError(N_("This link has expired. Ask for a new one.")) from exc
        except BadSignature as exc:
            raise VerificationError(
                N_("This link is not valid. Check that it was copied whole.")
            ) from exc
