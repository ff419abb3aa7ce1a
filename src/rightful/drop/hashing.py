"""DROP's standardisation and hashing, per identifier type: the one place that decides them.

CalPrivacy's DROP technical documentation ("Working with the data", 2026) gives the rules: each
identifier is standardised, encoded as UTF-8, hashed with SHA-256 and the digest written in
Base64 (44 characters). The two composite lists hash each field, join the fields' Base64 hashes
in a fixed order and hash that text again. docs/drop.md lists the rules, their sources and the
published vectors (tests/unit/drop/test_hashing.py checks every one).
"""

from __future__ import annotations

import base64
import hashlib
import re
import unicodedata
from collections.abc import Callable
from datetime import date
from enum import StrEnum
from typing import Any

from rightful.core.errors import InvalidInputError


class ListType(StrEnum):
    """The six consumer deletion lists, as DROP names them in its file names."""

    EMAIL = "Email"
    PHONE = "Phone"
    MAID = "MAID"
    CTVID = "CTVID"
    NDZ = "NDZ"  # first name + last name + date of birth + ZIP
    NAME_VIN = "NameVIN"  # first name + last name + VIN


# The fields of each list, in the order their hashes are joined (composite lists).
LIST_FIELDS: dict[ListType, tuple[str, ...]] = {
    ListType.EMAIL: ("email",),
    ListType.PHONE: ("phone",),
    ListType.MAID: ("maid",),
    ListType.CTVID: ("ctvid",),
    ListType.NDZ: ("first_name", "last_name", "dob", "zip"),
    ListType.NAME_VIN: ("first_name", "last_name", "vin"),
}

_NON_DIGIT = re.compile(r"\D")
_NON_ALNUM_ASCII = re.compile(r"[^a-z0-9]")
_NON_HEX = re.compile(r"[^0-9a-f]")
_WHITESPACE = re.compile(r"\s+")

# Greek and Cyrillic letters in Latin (the documentation's example: "Иван" -> "ivan"); a
# simple letter-by-letter table, as the documentation names no scheme (docs/drop.md).
_TRANSLIT = str.maketrans(
    {
        **dict(zip("абвгдезийклмнопрстуфхцыэ", "abvgdeziyklmnoprstufhcye", strict=True)),
        "ё": "e", "ж": "zh", "ч": "ch", "ш": "sh", "щ": "shch", "ъ": "", "ь": "", "ю": "yu",
        "я": "ya", "\u0456": "i", "ї": "yi", "є": "ye", "ґ": "g",
        **dict(zip("αβγδεζηικλμνξοπρσςτυφχω", "abgdezeiklmnxoprsstyfho", strict=True)),
        "θ": "th", "ψ": "ps",
    }
)  # fmt: skip


def sha256_base64(text: str) -> str:
    """SHA-256 of the UTF-8 text, as Base64 (44 characters)."""
    return base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii")


def email(value: str) -> str:
    """Whitespace removed, lower-cased; dots and plus tags are kept."""
    return _WHITESPACE.sub("", value).lower()


def phone(value: str) -> str:
    """Digits only, the last ten (all of them when fewer)."""
    return _NON_DIGIT.sub("", value)[-10:]


def name(value: str) -> str:
    """Accents off, Greek and Cyrillic in Latin, lower-cased, letters and digits only (scripts
    without a Latin form, such as CJK, Arabic or Hebrew, are kept as they are)."""
    decomposed = unicodedata.normalize("NFKD", value.lower().translate(_TRANSLIT))
    # Translated before (й -> y) and after (ώ -> ω -> o) accents come off.
    kept = "".join(c for c in decomposed if not unicodedata.combining(c)).translate(_TRANSLIT)
    return "".join(c for c in unicodedata.normalize("NFKC", kept) if c.isalnum())


def date_of_birth(value: date | str) -> str:
    """YYYYMMDD; a date, or ISO text (YYYY-MM-DD, or already YYYYMMDD)."""
    if isinstance(value, date):
        return value.strftime("%Y%m%d")
    digits = _NON_DIGIT.sub("", value.strip()[:10])
    if len(digits) != 8:
        raise InvalidInputError("A date of birth is written YYYY-MM-DD.")
    return digits


def zip_code(value: str) -> str:
    """Lower-case letters and digits, leading zeros off, the first five (91790-3771 -> 91790,
    M1B 1A1 -> m1b1a, 00712345 -> 71234: the documentation's examples)."""
    return _NON_ALNUM_ASCII.sub("", value.lower()).lstrip("0")[:5]


def maid(value: str) -> str:
    """A mobile advertising id as 32 lower-case hex digits (hyphens off)."""
    return _NON_HEX.sub("", value.lower())


def alnum(value: str) -> str:
    """Lower-case ASCII letters and digits only (VIN, connected-TV id)."""
    return _NON_ALNUM_ASCII.sub("", value.lower())


STANDARDISE: dict[str, Callable[[Any], str]] = {
    "email": email,
    "phone": phone,
    "maid": maid,
    "ctvid": alnum,
    "vin": alnum,
    "first_name": name,
    "last_name": name,
    "dob": date_of_birth,
    "zip": zip_code,
}


def field_hash(field: str, value: date | str) -> str | None:
    """The standardised value's hash, or None when nothing is left to hash."""
    standard = STANDARDISE[field](value)
    return sha256_base64(standard) if standard else None


def list_hash(list_type: ListType, values: dict[str, date | str | None]) -> str | None:
    """The hash a list carries for these values: one field's hash, or for a composite list the
    hash of its fields' hashes joined in order; None when a field is missing or empty."""
    hashes = []
    for field in LIST_FIELDS[list_type]:
        raw = values.get(field)
        one = field_hash(field, raw) if raw not in (None, "") else None
        if one is None:
            return None
        hashes.append(one)
    return hashes[0] if len(hashes) == 1 else sha256_base64("".join(hashes))


def list_type_of(text: str) -> ListType:
    """A list type from its name as DROP writes it (Email, NDZ, NameVIN ...), any case."""
    for member in ListType:
        if member.value.lower() == text.strip().lower():
            return member
    raise InvalidInputError(
        f"Unknown DROP list type {text!r}; DROP's lists are {', '.join(m.value for m in ListType)}."
    )
