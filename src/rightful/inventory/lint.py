"""Rules the data map must keep for cards and passwords, each finding naming field and rule.

Read from the data map alone: a field's data categories, its name, and, where those do not say
how a value is stored, the field's `rightful: {stored_as: hashed|tokenised|truncated|encrypted}`.

- PCI DSS v4.0 3.3.1.2: the card verification code is not kept after authorisation, in any form.
- PCI DSS v4.0 3.4.1: a full card number (PAN) is kept only truncated, tokenised or hashed.
- NIST SP 800-63B 5.1.1.2: no hint to a memorised secret, readable by anyone.
- NIST SP 800-63B 5.1.1.2: passwords are kept salted and hashed with a one-way function.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from rightful.inventory.names import has_any, name_words
from rightful.inventory.specs import CollectionSpec, DatasetSpec, FieldSpec

CVC_NAMES = ("cvv", "cvv2", "cvc", "cvc2", "csc", "cid", "security code", "verification code")
PAN_NAMES = ("card number", "cardnumber", "ccn", "pan", "cc number", "credit card")
PAN_SAFE_NAMES = ("last4", "last 4", "last four", "first6", "bin", "token", "masked", "truncated")
PASSWORD_NAMES = ("password", "passwd", "pwd", "passphrase", "passcode")
ONE_WAY_NAMES = ("hash", "hashed", "digest", "argon2", "bcrypt", "scrypt", "pbkdf2", "verifier")


@dataclass(frozen=True)
class Finding:
    """One field that breaks one rule."""

    rule: str
    dataset: str
    collection: str
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.dataset}.{self.collection}.{self.field}: {self.message} ({self.rule})"


def _has(spec: FieldSpec, *prefixes: str) -> bool:
    return any(c == p or c.startswith(p + ".") for c in spec.data_categories for p in prefixes)


def _card_collection(coll: CollectionSpec) -> bool:
    return any(
        _has(spec, "user.financial") or has_any(name_words(spec.name), ("card",))
        for _, spec in coll.walk()
    )


def _field_findings(coll: CollectionSpec, path: str, spec: FieldSpec) -> list[tuple[str, str]]:
    words = name_words(spec.name)
    out: list[tuple[str, str]] = []
    if has_any(words, CVC_NAMES) or (words == ("code",) and _card_collection(coll)):
        out.append(
            (
                "PCI DSS 3.3.1.2",
                "a card verification code must not be kept after authorisation, in any form",
            )
        )
    elif (_has(spec, "user.financial.credit_card") or has_any(words, PAN_NAMES)) and not (
        spec.stored_as in ("truncated", "tokenised", "hashed") or has_any(words, PAN_SAFE_NAMES)
    ):
        out.append(
            (
                "PCI DSS 3.4.1",
                "a full card number must be kept only truncated, tokenised or hashed; say how "
                "with `rightful: {stored_as: truncated}` (or tokenised, hashed) if it is",
            )
        )
    secret = _has(spec, "user.authorization.password") or has_any(words, PASSWORD_NAMES)
    if secret and has_any(words, ("hint", "reminder")):
        out.append(("NIST SP 800-63B 5.1.1.2", "a password hint must not be kept"))
    elif secret and not (spec.stored_as == "hashed" or has_any(words, ONE_WAY_NAMES)):
        out.append(
            (
                "NIST SP 800-63B 5.1.1.2",
                "a password must be kept salted and hashed with a one-way function "
                "(Argon2, scrypt, bcrypt, PBKDF2); say so with `rightful: {stored_as: hashed}` "
                "if it is",
            )
        )
    return out


def lint(datasets: Iterable[DatasetSpec]) -> list[Finding]:
    """Every field of the data map that breaks a card or password rule."""
    return [
        Finding(rule, ds.key, coll.name, path, message)
        for ds in datasets
        for coll in ds.collections
        for path, spec in coll.walk()
        for rule, message in _field_findings(coll, path, spec)
    ]
