"""Questions the rest of Rightful asks of the laws: who the regulator is, whether a law
grants a request kind (and what to do when it does not), and what it says of the signed
declaration."""

from __future__ import annotations

from enum import StrEnum

from rightful.core.errors import InvalidInputError
from rightful.laws.deadlines import rules_for
from rightful.laws.jurisdictions import Jurisdiction, parse
from rightful.laws.packs import all_packs
from rightful.laws.rules import Declaration, Regulator, RulesMode


class RightsScope(StrEnum):
    """Which rights the organisation honours: every right for everyone (the default), or only
    those the person's law grants."""

    ALL = "all"
    PER_LAW = "per_law"


def regulator_for(
    jurisdiction: str | Jurisdiction, mode: RulesMode | str = RulesMode.PER_JURISDICTION
) -> Regulator | None:
    """The authority a person may complain to: the place's own (each EU member state has
    one) or the pack's."""
    place = parse(jurisdiction)
    own = next(p for p in all_packs()[place.pack_key].places if p.code == place.code)
    return own.regulator or rules_for(place, mode).regulator


def granted_by_law(
    kind: str,
    jurisdiction: str | Jurisdiction,
    *,
    mode: RulesMode | str = RulesMode.PER_JURISDICTION,
    scope: RightsScope | str = RightsScope.ALL,
) -> bool:
    """Whether the jurisdiction's law grants the request kind. When it does not, the request
    is still honoured (voluntarily: the caller records that) unless the organisation honours
    only what each law grants, in per-jurisdiction mode: then an InvalidInputError names the
    law that lacks the right."""
    place = parse(jurisdiction)
    rules = rules_for(place, mode)
    if rules.rights.grants(kind):
        return True
    if RightsScope(scope) is RightsScope.PER_LAW and RulesMode(mode) is RulesMode.PER_JURISDICTION:
        message = (
            f"The {rules.law} ({rules.short}), which applies in {place.name}, does not give "
            f"this right ({rules.rights.cite}). Choose another kind of request."
        )
        raise InvalidInputError(message, errors=[{"field": "request_type", "message": message}])
    return False


def declaration_rule(
    jurisdiction: str | Jurisdiction, mode: RulesMode | str = RulesMode.PER_JURISDICTION
) -> Declaration:
    """What the law a request gets says of the signed declaration for a copy of specific
    pieces of information: required (California), the organisation's practice (the other US
    states, the house rules) or not asked (the GDPR, the UK GDPR); strictest mode requires it
    wherever any law does."""
    return rules_for(parse(jurisdiction), mode).declaration
