"""What an access package never discloses, decided in one place: by category and by name.

The CCPA regulations (11 CCR §7024(d)) forbid disclosing Social Security, driver's license and
other government ID numbers, financial account numbers, health insurance and medical ID numbers,
account passwords, security questions and answers, and unique biometric data, and ask that the
person be told, precisely enough, that we hold them. Credentials of any kind (tokens, keys,
security codes) are kept out for the same reason: whoever reads the file could use them. A data
map does not always categorise such fields, so their names count too.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from rightful.inventory.names import has_any, name_words
from rightful.inventory.specs import CollectionSpec, FieldSpec


@dataclass(frozen=True)
class Kind:
    """A kind of information withheld, in the words the readable page uses."""

    key: str
    held: str  # "We hold card data"
    why: str


KINDS = {
    k.key: k
    for k in (
        Kind(
            "sign_in",
            "We hold your sign-in details",
            "so that no one who gets this file can sign in as you",
        ),
        Kind("card", "We hold card data", "so that no one who gets this file can pay with it"),
        Kind(
            "bank",
            "We hold bank account details",
            "so that no one who gets this file can take money from your account",
        ),
        Kind(
            "government_id",
            "We hold government ID numbers",
            "so that no one who gets this file can pretend to be you",
        ),
        Kind(
            "health_id",
            "We hold health insurance or medical ID numbers",
            "so that no one who gets this file can use them in your name",
        ),
        Kind("biometric", "We hold biometric data", "because it cannot be changed if it leaks"),
        Kind(
            "keys",
            "We hold security keys and tokens",
            "so that no one who gets this file can use them to reach your account",
        ),
    )
}

# Data-category prefixes never disclosed, most specific first, with the kind each belongs to.
CATEGORIES: tuple[tuple[str, str], ...] = (
    ("user.authorization.biometric", "biometric"),
    ("user.authorization", "sign_in"),
    ("user.government_id", "government_id"),
    ("user.financial.account_number", "card"),
    ("user.financial.bank_account", "bank"),
    ("user.financial.credit_card", "card"),
    ("user.health_and_medical.insurance_beneficiary_id", "health_id"),
    ("user.health_and_medical.record_id", "health_id"),
    ("user.biometric", "biometric"),
)

# Field names that hold secrets whatever their categories, as runs of words: `card_token`,
# `passwordHash` and `api-key` are read as the words [card, token], [password, hash], [api, key],
# and match "token", "password" and "api key".
NAMES: dict[str, tuple[str, ...]] = {
    "sign_in": (
        "password", "passwd", "pwd", "pass hash", "passcode", "pin", "otp", "totp",
        "mfa secret", "recovery code", "security question", "security answer",
    ),
    "card": (
        "cvv", "cvv2", "cvc", "cvc2", "csc", "security code", "verification code",
        "card number", "ccn", "pan",
    ),
    "bank": ("iban", "account number", "routing number", "sort code"),
    "government_id": (
        "ssn", "social security", "passport", "driver license", "drivers license",
        "driving licence", "national id", "tax id",
    ),
    "keys": ("token", "secret", "api key", "apikey", "private key", "access key", "signing key"),
}  # fmt: skip
# Where a collection holds financial data, a bare `code` is the card's security code (Fides's
# own example dataset names it so), and its PINs, tokens and keys are payment credentials.
FINANCIAL_NAMES = ("code",)

WITHHELD = "[held by us, not shown for your security]"


def is_financial(coll: CollectionSpec) -> bool:
    """True when any field of the collection holds financial data."""
    return any(
        c.startswith("user.financial") for _, spec in coll.walk() for c in spec.data_categories
    )


def withheld_kind(spec: FieldSpec, *, financial: bool = False) -> Kind | None:
    """The kind of secret a field holds, or None when it may be disclosed.

    `financial` says the field's collection holds financial data (see `is_financial`).
    """
    return _kind(spec.name, tuple(spec.data_categories), financial)


# Asked for every value of every row of a package, about the same few hundred fields: the
# phrase search was most of a package's build (issue 12, access batches). Fields are few.
@lru_cache(maxsize=4096)
def _kind(name: str, categories: tuple[str, ...], financial: bool) -> Kind | None:
    for category in categories:
        for prefix, kind in CATEGORIES:
            if category == prefix or category.startswith(prefix + "."):
                return KINDS[kind]
    words = name_words(name)
    if financial and " ".join(words) in FINANCIAL_NAMES:
        return KINDS["card"]
    for kind, phrases in NAMES.items():
        if has_any(words, phrases):
            payment = financial and (kind == "keys" or "pin" in words)
            return KINDS["card" if payment else kind]
    return None
