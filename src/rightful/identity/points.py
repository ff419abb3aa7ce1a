"""Data points a consumer may give, and where the data map keeps each of them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from rightful.core.config import Settings
from rightful.core.i18n import N_
from rightful.identity import normalize


@dataclass(frozen=True)
class DataPoint:
    """One thing a consumer can tell us to prove who they are."""

    key: str
    label: str  # built-in ones are marked N_ and translated where shown; a company's own are not
    hint: str
    categories: tuple[str, ...]
    normalise: Callable[[str], str]
    autocomplete: str


DATA_POINTS: tuple[DataPoint, ...] = (
    DataPoint(
        "phone_number",
        N_("Phone number"),
        N_("The number on your account, with area code."),
        ("user.contact.phone_number",),
        normalize.phone,
        "tel",
    ),
    DataPoint(
        "name",
        N_("Full name"),
        N_("First and last name, as on your account."),
        ("user.name",),
        normalize.name,
        "name",
    ),
    DataPoint(
        "postal_code",
        N_("ZIP code"),
        N_("The ZIP code of an address we have for you."),
        ("user.contact.address.postal_code",),
        normalize.postal_code,
        "postal-code",
    ),
)


def configured_points(settings: Settings) -> tuple[DataPoint, ...]:
    """The built-in data points and the ones the company added in its settings."""
    extra = tuple(
        DataPoint(x.key, x.label, x.hint, tuple(x.categories), normalize.text, "off")
        for x in settings.extra_data_points
        if x.key not in {p.key for p in DATA_POINTS}
    )
    return DATA_POINTS + extra
