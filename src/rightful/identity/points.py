"""Data points a consumer may give, and where the data map keeps each of them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from rightful.identity import normalize


@dataclass(frozen=True)
class DataPoint:
    """One thing a consumer can tell us to prove who they are."""

    key: str
    label: str
    hint: str
    categories: tuple[str, ...]
    normalise: Callable[[str], str]
    autocomplete: str


DATA_POINTS: tuple[DataPoint, ...] = (
    DataPoint(
        "phone_number",
        "Phone number",
        "The number on your account, with area code.",
        ("user.contact.phone_number",),
        normalize.phone,
        "tel",
    ),
    DataPoint(
        "name",
        "Full name",
        "First and last name, as on your account.",
        ("user.name",),
        normalize.name,
        "name",
    ),
    DataPoint(
        "postal_code",
        "ZIP code",
        "The ZIP code of an address we have for you.",
        ("user.contact.address.postal_code",),
        normalize.postal_code,
        "postal-code",
    ),
)
BY_KEY = {p.key: p for p in DATA_POINTS}
