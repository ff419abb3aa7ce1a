"""'The strictest rule for everyone': one synthetic pack per jurisdiction that takes, rule by
rule, the strictest value of every US pack and of the jurisdiction's own law.

Strictest means what protects the person most: the shortest response, acknowledgement,
opt-out and extension; the widest rights; the longest window to appeal and the shortest time
to answer one; the most free requests; the signed declaration wherever any of the laws
requires one (California's, for a copy of specific pieces). The jurisdiction's own pack is
always included, so an Irish request never gets longer than the GDPR's month; its clock,
holidays and regulator stay its own.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from functools import cache

from rightful.laws.packs import all_packs
from rightful.laws.rules import (
    Appeal,
    Declaration,
    DeclarationNeed,
    Extension,
    Period,
    Rights,
    Rule,
    RulePack,
)


def _from(pack: RulePack, cite: str) -> str:
    return f"{pack.short}: {cite}"


def _shortest_rule(packs: Sequence[RulePack], pick: Callable[[RulePack], Rule]) -> Rule:
    # Only rules the laws themselves set compete; the organisation's own practice is
    # never stricter than a law by definition of this mode.
    candidates = [p for p in packs if pick(p).statutory] or list(packs)
    best = min(candidates, key=lambda p: pick(p).period.approx_days())
    rule = pick(best)
    return replace(rule, cite=_from(best, rule.cite))


def _shortest_extension(packs: Sequence[RulePack]) -> Extension:
    best = min(
        packs,
        key=lambda p: p.extension.period.approx_days() if p.extension.period else 0.0,
    )
    return replace(best.extension, cite=_from(best, best.extension.cite))


def _longest(periods: list[Period]) -> Period | None:
    return max(periods, key=Period.approx_days) if periods else None


def _shortest(periods: list[Period]) -> Period | None:
    return min(periods, key=Period.approx_days) if periods else None


def _appeal(packs: Sequence[RulePack]) -> Appeal:
    granting = [p for p in packs if p.appeal.exists]
    if not granting:
        return Appeal(exists=False)
    windows = [p.appeal.window for p in granting if p.appeal.window]
    answers = [p.appeal.answer for p in granting if p.appeal.answer]
    return Appeal(
        exists=True,
        cite="; ".join(_from(p, p.appeal.cite) for p in granting),
        window=_longest(windows),
        window_note="the longest window any of these laws sets"
        if windows
        else "a reasonable period after the decision",
        answer=_shortest(answers),
        answer_extension=None,
        regulator_on_denial=any(p.appeal.regulator_on_denial for p in granting),
        statutory=False,
    )


def _declaration(own: RulePack, packs: Sequence[RulePack]) -> Declaration:
    # A law that requires the declaration is the strictest; otherwise the request keeps its
    # own pack's rule (the organisation's practice never competes with a law).
    requiring = [p for p in packs if p.declaration.need is DeclarationNeed.REQUIRED]
    if not requiring:
        return own.declaration
    best = requiring[0] if own not in requiring else own
    return replace(best.declaration, cite=_from(best, best.declaration.cite))


def combine(own: RulePack, others: Sequence[RulePack]) -> RulePack:
    """The strictest value of each rule across `own` and `others` (own's places, clock and
    regulator kept)."""
    packs = [own, *[p for p in others if p.key != own.key]]
    # None is "no yearly limit" (the GDPR), the most a law can allow.
    frees = [p.free_requests_per_12_months for p in packs]
    most_free = None if None in frees else max(f for f in frees if f is not None)
    return replace(
        own,
        law=f"The strictest rule of each kind across {len(packs)} laws",
        short="Strictest",
        version="+".join(f"{p.key}@{p.version}" for p in packs),
        rights=Rights(
            frozenset().union(*(p.rights.kinds for p in packs)),
            "the rights any of these laws grants",
        ),
        respond=_shortest_rule(packs, lambda p: p.respond),
        extension=_shortest_extension(packs),
        acknowledge=_shortest_rule(packs, lambda p: p.acknowledge),
        opt_out=_shortest_rule(packs, lambda p: p.opt_out),
        appeal=_appeal(packs),
        free_requests_per_12_months=most_free,
        free_requests_cite="the most free requests any of these laws allows",
        declaration=_declaration(own, packs),
        notes=f"Built from: {', '.join(p.label for p in packs)}.",
        strictest_of=tuple(p.key for p in packs),
    )


def us_packs() -> list[RulePack]:
    """The packs of US state laws (the organisation's own house pack excluded)."""
    return [p for p in all_packs().values() if not p.house and p.places[0].code.startswith("US-")]


@cache
def strictest_for(pack_key: str) -> RulePack:
    """The strictest-mode pack for the jurisdictions of one pack."""
    return combine(all_packs()[pack_key], us_packs())
