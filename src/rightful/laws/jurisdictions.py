"""One vocabulary for where a person is: ISO 3166-2 (`US-CA`, `US-TX`) or ISO 3166-1 (`GB`,
`IE`, `DE`), each belonging to exactly one rule pack.

Parsing accepts lower case and the two-letter US state codes Rightful stored before
(`CA` → `US-CA`), except where a two-letter code is itself a covered country: `DE` is
Germany and `MT` Malta (write `US-DE`, `US-MT` for Delaware and Montana). Anything else is
refused with the list of choices — there is no silent fallback. `US-OTHER` ("another US
state") and `OTHER` ("somewhere else") are explicit choices that get the organisation's own
rules (the `house` pack).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from rightful.core.errors import InvalidInputError
from rightful.laws.packs import all_packs
from rightful.laws.rules import Place


@dataclass(frozen=True)
class Jurisdiction:
    """Where a request or a choice is governed: a code, a name, a clock and its pack."""

    code: str
    name: str
    pack_key: str
    timezone: str
    holidays_country: str
    holidays_subdivision: str | None = None

    def __str__(self) -> str:
        return self.code

    @property
    def country(self) -> str:
        """The ISO 3166-1 country, e.g. 'US' for US-CA."""
        return self.code.split("-")[0]

    @property
    def is_other(self) -> bool:
        """Whether this is one of the explicit 'not listed' choices."""
        return self.code in ("US-OTHER", "OTHER")

    @classmethod
    def parse(cls, value: str | Jurisdiction) -> Jurisdiction:
        """A covered jurisdiction from a code (see the module's docstring); refuses others."""
        return parse(value)


def _of(place: Place, pack_key: str) -> Jurisdiction:
    return Jurisdiction(
        code=place.code,
        name=place.name,
        pack_key=pack_key,
        timezone=place.timezone,
        holidays_country=place.holidays_country,
        holidays_subdivision=place.holidays_subdivision,
    )


@cache
def _by_code() -> dict[str, Jurisdiction]:
    return {
        place.code: _of(place, pack.key) for pack in all_packs().values() for place in pack.places
    }


def _order(j: Jurisdiction) -> tuple[int, str]:
    # US states first, then the rest by name, the explicit "other" choices last.
    return (2 if j.is_other else 0 if j.country == "US" else 1, j.name)


@cache
def all_jurisdictions() -> tuple[Jurisdiction, ...]:
    """Every covered jurisdiction, US states first, then countries, 'other' last."""
    return tuple(sorted(_by_code().values(), key=_order))


def codes() -> tuple[str, ...]:
    """The accepted codes, in display order."""
    return tuple(j.code for j in all_jurisdictions())


def choices() -> list[tuple[str, str]]:
    """(code, name) pairs for a select box."""
    return [(j.code, j.name) for j in all_jurisdictions()]


def parse(value: str | Jurisdiction) -> Jurisdiction:
    """A covered jurisdiction from `US-TX`, `us-tx`, a legacy `TX`, `GB`, `IE`...; an
    InvalidInputError naming the choices for anything else."""
    if isinstance(value, Jurisdiction):
        return value
    known = _by_code()
    code = str(value or "").strip().upper().replace("_", "-")
    if code in known:
        return known[code]
    legacy = f"US-{code}"
    if len(code) == 2 and legacy in known:
        return known[legacy]
    message = (
        f"{code or 'An empty value'} is not a jurisdiction Rightful has rules for. "
        f"Choose one of: {', '.join(codes())} (US-OTHER or OTHER if yours is not listed)."
    )
    raise InvalidInputError(message, errors=[{"field": "jurisdiction", "message": message}])


def is_known(value: str) -> bool:
    """Whether `parse` accepts the value."""
    try:
        parse(value)
    except InvalidInputError:
        return False
    return True
