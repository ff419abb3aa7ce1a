"""Why a request was denied, in the four groups the CCPA's yearly metrics may report
(11 CCR § 7102(a)(2)): not verifiable, not made by the consumer, exempt, other grounds.

One place maps every denial Rightful records onto a group: the reasons Rightful gives itself
when it closes a request (service.move's `reason`) and the basis staff choose when they deny
one (the `basis` of the `request.denied` audit event). The written reason to the person stays
as it was; only the group is read here.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from rightful.core.errors import InvalidInputError
from rightful.core.i18n import N_


class DenialBasis(StrEnum):
    """The group a denial counts in."""

    NOT_VERIFIABLE = "not_verifiable"
    NOT_BY_CONSUMER = "not_by_consumer"
    EXEMPT = "exempt"
    OTHER = "other"


# The public metrics page shows these in the reader's language (N_: translated where shown).
LABELS = {
    DenialBasis.NOT_VERIFIABLE: N_("Could not be verified"),
    DenialBasis.NOT_BY_CONSUMER: N_("Not made by the consumer or someone allowed to act for them"),
    DenialBasis.EXEMPT: N_("Called for information exempt from disclosure (an exception applies)"),
    DenialBasis.OTHER: N_("Other grounds"),
}

# The same in a word or two, where space is short (a phone's stacked table).
SHORT_LABELS = {
    DenialBasis.NOT_VERIFIABLE: N_("Not verifiable"),
    DenialBasis.NOT_BY_CONSUMER: N_("Not by the consumer"),
    DenialBasis.EXEMPT: N_("Exempt"),
    DenialBasis.OTHER: N_("Other grounds"),
}

# What staff choose from when they deny a request, the default first.
CHOICES = {
    b.value: LABELS[b]
    for b in (
        DenialBasis.OTHER,
        DenialBasis.EXEMPT,
        DenialBasis.NOT_BY_CONSUMER,
        DenialBasis.NOT_VERIFIABLE,
    )
}

# The reasons Rightful records itself when it closes a request without action.
SYSTEM_REASONS: dict[str, DenialBasis] = {
    "unable_to_verify": DenialBasis.NOT_VERIFIABLE,  # data points did not match (rights/flows)
    "verification_used_up": DenialBasis.NOT_VERIFIABLE,  # codes or tries ran out
    "consumer_refused": DenialBasis.NOT_BY_CONSUMER,  # the person disowned an agent's request
}


def parse_basis(value: str | None) -> DenialBasis:
    """Staff's choice of basis; none given counts as other grounds (InvalidInputError for an
    unknown one)."""
    if not value:
        return DenialBasis.OTHER
    try:
        return DenialBasis(value)
    except ValueError:
        raise InvalidInputError(
            f"Unknown basis {value!r}; choose one of: {', '.join(DenialBasis)}.",
            errors=[{"field": "basis", "message": "Choose why the request is denied."}],
        ) from None


def basis_of(detail: Mapping[str, Any]) -> DenialBasis:
    """The group of one recorded denial, from its audit event's detail."""
    chosen = detail.get("basis")
    if chosen in {b.value for b in DenialBasis}:
        return DenialBasis(chosen)
    return SYSTEM_REASONS.get(str(detail.get("reason", "")), DenialBasis.OTHER)


def reason_code(detail: Mapping[str, Any]) -> str:
    """What the records show as the denial's reason: Rightful's own code, or "staff" for a
    reason staff wrote (its text can name the person, so it stays on the request page)."""
    reason = str(detail.get("reason", ""))
    return reason if reason in SYSTEM_REASONS else "staff"
