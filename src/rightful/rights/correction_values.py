"""What a person can ask to correct, and the corrected value in the form stores keep it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from rightful.core.errors import InvalidInputError
from rightful.core.i18n import N_
from rightful.identity import normalize

if TYPE_CHECKING:
    from rightful.rights.schemas import RequestIn


@dataclass(frozen=True)
class Correctable:
    """Something a person can ask us to correct, and the categories that hold it."""

    key: str
    label: str
    categories: tuple[str, ...]
    identity_point: str | None  # the verification data point it must not count as


CORRECTABLE = {
    c.key: c
    for c in (
        Correctable("name", N_("My name"), ("user.name",), "name"),
        Correctable(
            "phone_number", N_("My phone number"), ("user.contact.phone_number",), "phone_number"
        ),
        Correctable(
            "date_of_birth", N_("My date of birth"), ("user.demographic.date_of_birth",), None
        ),
    )
}
# As the "corrected" e-mail names them ("We have corrected your name"), translated there.
ITEM_WORDS = (N_("name"), N_("phone number"), N_("date of birth"))


def normalise_new_value(item: str, value: str) -> str:
    """The corrected value in the form stores keep it; InvalidInputError for nonsense."""
    if item not in CORRECTABLE:
        raise InvalidInputError(
            N_("Choose what to correct."),
            errors=[{"field": "correction_item", "message": N_("Choose what to correct.")}],
        )
    if item == "phone_number":
        return normalize.phone(value)
    if item == "date_of_birth":
        try:
            return date.fromisoformat(value.strip()).isoformat()
        except ValueError as exc:
            raise InvalidInputError(
                N_("Enter the date as YYYY-MM-DD."),
                errors=[
                    {"field": "correction_value", "message": N_("Enter the date as YYYY-MM-DD.")}
                ],
            ) from exc
    return normalize.display_name(value)


def new_value(item: str, value: str, category: str) -> Any:
    if item == "name" and category.endswith(".first"):
        return value.split(" ", 1)[0]
    if item == "name" and category.endswith(".last"):
        return value.split(" ", 1)[-1]
    if item == "date_of_birth":
        return date.fromisoformat(value)
    return value


def correction_details(data: RequestIn) -> dict[str, str]:
    """What to correct and the new value, from a correction request's form or API body."""
    if not data.correction_item or not data.correction_value:
        raise InvalidInputError(
            N_("Tell us what to correct and the right value."),
            errors=[
                {"field": "correction_item", "message": N_("Choose what to correct.")},
                {"field": "correction_value", "message": N_("Enter the right value.")},
            ],
        )
    value = normalise_new_value(data.correction_item, data.correction_value)
    return {
        "correction_item": data.correction_item,
        "correction_value": value,
        "correction_evidence": (data.correction_evidence or "").strip(),
    }
