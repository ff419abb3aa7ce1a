"""The signed declaration asked for before specific pieces of information are released.

A declaration under penalty of perjury cites the law of the place where it is made: the
consumer's state or country. `GOVERNING_LAW` is the one table of those citations, keyed by
the jurisdiction codes of `rightful.laws` (US-CA, US-TX, GB, IE...); the form, the API and the
CLI offer exactly these codes.
"""

from __future__ import annotations

from rightful import laws
from rightful.identity.normalize import US_STATE_NAMES

# Four states are commonwealths and DC is a district; each is cited by its own style.
_STYLED = {
    "DC": "the District of Columbia",
    "KY": "the Commonwealth of Kentucky",
    "MA": "the Commonwealth of Massachusetts",
    "PA": "the Commonwealth of Pennsylvania",
    "VA": "the Commonwealth of Virginia",
}
_OTHER = {
    "US-OTHER": "the laws of the State where I live",
    "OTHER": "the laws of the place where I live",
}


def _law_of(place: laws.Jurisdiction) -> str:
    if place.code in _OTHER:
        return _OTHER[place.code]
    if place.country == "US":
        state = place.code.removeprefix("US-")
        return f"the laws of {_STYLED.get(state, f'the State of {US_STATE_NAMES[state]}')}"
    return f"the laws of {place.name}"


GOVERNING_LAW: dict[str, str] = {j.code: _law_of(j) for j in laws.all_jurisdictions()}

_TEXT = (
    "I declare under penalty of perjury under {law} that I am the consumer whose personal "
    "information is the subject of this request, or that I am authorized to make this request "
    "on their behalf."
)


def governing_law(jurisdiction: str) -> str:
    """The law a declaration made in this jurisdiction is made under, e.g. 'the laws of …';
    an InvalidInputError naming the choices for an unknown jurisdiction."""
    return GOVERNING_LAW[laws.parse(jurisdiction).code]


def declaration_for(jurisdiction: str) -> str:
    """The full text a consumer of this jurisdiction reads and signs."""
    return _TEXT.format(law=governing_law(jurisdiction))
