"""The signed declaration asked for before specific pieces of information are released.

A declaration under penalty of perjury cites the law of the place where it is made: the
consumer's state. `GOVERNING_LAW` is the one table of those citations, keyed by the same
jurisdiction codes as the deadlines in `rights/deadlines.py`; the form, the API and the CLI
offer exactly these codes (`identity.normalize.US_STATE_NAMES`).
"""

from __future__ import annotations

from rightful.core.errors import InvalidInputError
from rightful.identity.normalize import US_STATE_NAMES

# Four states are commonwealths and DC is a district; each is cited by its own style.
_STYLED = {
    "DC": "the District of Columbia",
    "KY": "the Commonwealth of Kentucky",
    "MA": "the Commonwealth of Massachusetts",
    "PA": "the Commonwealth of Pennsylvania",
    "VA": "the Commonwealth of Virginia",
}
GOVERNING_LAW: dict[str, str] = {
    code: f"the laws of {_STYLED.get(code, f'the State of {name}')}"
    for code, name in US_STATE_NAMES.items()
}

_TEXT = (
    "I declare under penalty of perjury under {law} that I am the consumer whose personal "
    "information is the subject of this request, or that I am authorized to make this request "
    "on their behalf."
)


def governing_law(jurisdiction: str) -> str:
    """The law a declaration made in this jurisdiction is made under, e.g. 'the laws of …'."""
    law = GOVERNING_LAW.get(jurisdiction.strip().upper())
    if law is None:
        raise InvalidInputError(
            "Choose the US state where you live.",
            errors=[{"field": "jurisdiction", "message": "Choose the US state where you live."}],
        )
    return law


def declaration_for(jurisdiction: str) -> str:
    """The full text a consumer of this jurisdiction reads and signs."""
    return _TEXT.format(law=governing_law(jurisdiction))
