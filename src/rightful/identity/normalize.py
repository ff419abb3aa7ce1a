"""Normalise identities so the same person always looks the same."""

from __future__ import annotations

import re
import unicodedata

from email_validator import EmailNotValidError, validate_email

from rightful.core.errors import InvalidInputError
from rightful.core.i18n import N_


def _invalid(field: str, message: str) -> InvalidInputError:
    return InvalidInputError(message, errors=[{"field": field, "message": message}])


def email(value: str) -> str:
    """A syntactically valid address, lower-cased; no network look-up."""
    try:
        result = validate_email(value.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        # The library's reason ("the part after the @-sign ...") is for developers, not people.
        raise _invalid("email", N_("Enter a valid e-mail address, like name@example.com.")) from exc
    return result.normalized.lower()


def phone(value: str, region: str = "US") -> str:
    """E.164, e.g. +14155550134."""
    import phonenumbers  # when first used: the server's start does not wait for it

    try:
        parsed = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException as exc:
        raise _invalid("phone_number", N_("Enter a phone number with its area code.")) from exc
    if not phonenumbers.is_valid_number(parsed):
        raise _invalid("phone_number", N_("That phone number does not look valid."))
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def name(value: str) -> str:
    """Case- and accent-insensitive, single-spaced."""
    folded = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode()
    return re.sub(r"\s+", " ", folded).strip().casefold()


def postal_code(value: str) -> str:
    """The five-digit ZIP code."""
    digits = re.sub(r"\D", "", value)
    if len(digits) not in (5, 9):
        raise _invalid("postal_code", N_("Enter a 5-digit ZIP code."))
    return digits[:5]


def display_name(value: str) -> str:
    """A name as the person wrote it, single-spaced."""
    cleaned = re.sub(r"\s+", " ", value).strip()
    if not cleaned:
        raise _invalid("name", N_("Enter your name, or leave the field empty."))
    return cleaned


US_STATE_NAMES = {
    "AL": "Alabama",
    "AK": "Alaska",
    "AZ": "Arizona",
    "AR": "Arkansas",
    "CA": "California",
    "CO": "Colorado",
    "CT": "Connecticut",
    "DE": "Delaware",
    "DC": "District of Columbia",
    "FL": "Florida",
    "GA": "Georgia",
    "HI": "Hawaii",
    "ID": "Idaho",
    "IL": "Illinois",
    "IN": "Indiana",
    "IA": "Iowa",
    "KS": "Kansas",
    "KY": "Kentucky",
    "LA": "Louisiana",
    "ME": "Maine",
    "MD": "Maryland",
    "MA": "Massachusetts",
    "MI": "Michigan",
    "MN": "Minnesota",
    "MS": "Mississippi",
    "MO": "Missouri",
    "MT": "Montana",
    "NE": "Nebraska",
    "NV": "Nevada",
    "NH": "New Hampshire",
    "NJ": "New Jersey",
    "NM": "New Mexico",
    "NY": "New York",
    "NC": "North Carolina",
    "ND": "North Dakota",
    "OH": "Ohio",
    "OK": "Oklahoma",
    "OR": "Oregon",
    "PA": "Pennsylvania",
    "RI": "Rhode Island",
    "SC": "South Carolina",
    "SD": "South Dakota",
    "TN": "Tennessee",
    "TX": "Texas",
    "UT": "Utah",
    "VT": "Vermont",
    "VA": "Virginia",
    "WA": "Washington",
    "WV": "West Virginia",
    "WI": "Wisconsin",
    "WY": "Wyoming",
}
US_STATES = frozenset(US_STATE_NAMES)


def state(value: str) -> str:
    """A US state's two-letter code."""
    code = value.strip().upper()
    if code not in US_STATES:
        raise _invalid("jurisdiction", N_("Choose the US state where you live."))
    return code


def text(value: str) -> str:
    """Any other detail: case-insensitive, single-spaced."""
    return re.sub(r"\s+", " ", value).strip().casefold()
