"""The signed declaration asked for before specific pieces of information are released.

Whether a request needs it is the law's rule (each rule pack's `verification.declaration`:
required in California, the organisation's practice in the other US states and the house
rules, not asked under the GDPR and the UK GDPR): `needed` is the one answer, for the form,
the API, the console's intake, the mailbox's cases and verification alike.

A declaration under penalty of perjury cites the law of the place where it is made: the
consumer's state or country. `governing_laws()` is the one table of those citations, keyed by
the jurisdiction codes of `rightful.laws` (US-CA, US-TX, GB, IE...); the form, the API and the
CLI offer exactly these codes. It is built when first asked for, not at import: building it
reads every rule pack and loads every holiday calendar, which `rightful serve` should not wait
for before its first answer.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

from rightful import laws
from rightful.core import i18n
from rightful.identity.normalize import US_STATE_NAMES
from rightful.rights.kinds import KINDS, kind_of

if TYPE_CHECKING:
    from rightful.core.config import Settings

# Four states are commonwealths and DC is a district; each is cited by its own style.
_COMMONWEALTHS = frozenset({"KY", "MA", "PA", "VA"})


def _law_of(place: laws.Jurisdiction, language: str) -> str:
    """The law a declaration made in `place` is made under, in `language`."""
    if place.code == "US-OTHER":
        return i18n.translate(language, "the laws of the State where I live")
    if place.code == "OTHER":
        return i18n.translate(language, "the laws of the place where I live")
    if place.country == "US":
        state = place.code.removeprefix("US-")
        if state == "DC":
            return i18n.translate(language, "the laws of the District of Columbia")
        name = {"state": US_STATE_NAMES[state]}
        if state in _COMMONWEALTHS:
            return i18n.translate(language, "the laws of the Commonwealth of %(state)s") % name
        return i18n.translate(language, "the laws of the State of %(state)s") % name
    country = place.name
    if language != i18n.DEFAULT:
        country = i18n.territory_name(place.country, language) or place.name
    return i18n.translate(language, "the laws of %(country)s") % {"country": country}


@cache
def governing_laws(language: str = i18n.DEFAULT) -> dict[str, str]:
    """Every jurisdiction's citation in `language`, by code (the form's list)."""
    return {j.code: _law_of(j, language) for j in laws.all_jurisdictions()}


def governing_law(jurisdiction: str, language: str = i18n.DEFAULT) -> str:
    """The law a declaration made in this jurisdiction is made under, e.g. 'the laws of …';
    an InvalidInputError naming the choices for an unknown jurisdiction."""
    return governing_laws(language)[laws.parse(jurisdiction).code]


def declaration_for(jurisdiction: str, language: str = i18n.DEFAULT) -> str:
    """The full text a consumer of this jurisdiction reads and signs, in the language of the
    page they sign it on (the text stored with the request is this one)."""
    text = i18n.translate(
        language,
        "I declare under penalty of perjury under %(law)s that I am the consumer whose "
        "personal information is the subject of this request, or that I am authorized to make "
        "this request on their behalf.",
    )
    return text % {"law": governing_law(jurisdiction, language)}


def needed(settings: Settings, kind: str, jurisdiction: str | laws.Jurisdiction) -> bool:
    """Whether a request of this kind from this jurisdiction needs the person's signed
    declaration, under the rules mode in force: only for specific pieces of information (a
    copy), and only where the law requires it or, where it is the organisation's practice,
    the organisation keeps that practice (RIGHTFUL_DECLARATION_PRACTICE). InvalidInputError
    for an unknown kind or jurisdiction."""
    if not kind_of(kind).specific_pieces:
        return False
    rule = laws.declaration_rule(jurisdiction, settings.rules_mode)
    return rule.asked(keep_practice=settings.declaration_practice == "keep")


def kinds_needing(settings: Settings, jurisdiction: str | laws.Jurisdiction) -> list[str]:
    """The request kinds (type values) that need the declaration in this jurisdiction."""
    return [k.type.value for k in KINDS if needed(settings, k.type.value, jurisdiction)]


def kinds_by_place(settings: Settings) -> dict[str, list[str]]:
    """Every jurisdiction's kinds that need the declaration, by code (what the forms show)."""
    return {j.code: kinds_needing(settings, j) for j in laws.all_jurisdictions()}
