"""Blocks left empty are filled from what Rightful holds: the data map, the consent catalogue,
the law packs and the settings. A block the company must word itself cannot be filled."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from rightful import laws
from rightful.core.config import Settings
from rightful.core.errors import InvalidInputError
from rightful.inventory import taxonomy
from rightful.notices.blocks import Block, Segment
from rightful.notices.ccpa import covers, is_sensitive
from rightful.notices.facts import Facts

WORDED = ("categories", "retention")  # the company's own words and decisions


def _categories(segments: list[Segment]) -> list[dict[str, Any]]:
    for s in segments:
        if isinstance(s, Block) and s.kind == "categories" and s.body:
            return list(s.body)
    return []


def _notice_keys(categories: list[dict[str, Any]], held: tuple[str, ...]) -> list[str]:
    """The notice's categories that name any of `held`."""
    return [
        c["key"]
        for c in categories
        if any(covers(k, h) for k in c["data_categories"] for h in held)
    ]


ROLES = {
    "service_provider": "service provider",
    "contractor": "contractor",
    "third_party": "third party",
    "affiliate": "affiliate",
}


def _recipients(facts: Facts, categories: list[dict[str, Any]]) -> list[dict[str, Any]]:
    by_partner: dict[str, list[str]] = {}
    roles = {g.partner: ROLES.get(g.role, g.role) for g in facts.given}
    for g in facts.given:
        keys = by_partner.setdefault(g.partner, [])
        keys += [k for k in _notice_keys(categories, g.data_categories) if k not in keys]
    return [
        {"partner": p, "words": roles[p], "categories": keys}
        for p, keys in by_partner.items()
        if keys
    ]


def _sale_share(facts: Facts, categories: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {"sold": [], "shared": [], "under_16": False}
    for flag, bucket in (("sale", "sold"), ("share", "shared")):
        for g in facts.given:
            if getattr(g, flag):
                keys = _notice_keys(categories, g.data_categories)
                out[bucket].append({"partner": g.partner, "words": "", "categories": keys})
    return out


def _sensitive(facts: Facts, categories: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for c in categories:
        held = [
            h
            for h in facts.held
            if is_sensitive(h) and any(covers(k, h) for k in c["data_categories"])
        ]
        uses = sorted({u for h in held for u in facts.used_for.get(h, [])})
        if held:
            out.append(
                {
                    "category": c["key"],
                    "uses": uses or ["Providing our services"],
                    "only_permitted_uses": True,
                }
            )
    return out


def _body(
    block: Block, segments: list[Segment], facts: Facts, settings: Settings, names: dict[str, str]
) -> Any:
    categories = _categories(segments)
    kind = block.kind
    if kind == "sources":
        return [{"words": s, "covers": []} for s in facts.sources]
    if kind == "purposes":
        return [{"words": names.get(u, u), "data_uses": [u]} for u in sorted(facts.uses)]
    if kind == "recipients":
        return _recipients(facts, categories)
    if kind == "sale-share":
        return _sale_share(facts, categories)
    if kind == "sensitive":
        return _sensitive(facts, categories)
    if kind == "signals":
        return {"gpc": "honored", "dnt": "ignored"}  # what Rightful's banner and pages do
    if kind == "children":
        return {"collects_from_children": "child" in facts.subjects, "minimum_age": 13}
    if kind == "rights":
        pack = laws.rules_for(block.arg)
        return {"kinds": [k for k in laws.KINDS if pack.rights.grants(k)]}
    if kind == "contact":
        return {
            "email": settings.privacy_email,
            "postal_address": settings.postal_address,
            "privacy_center": settings.base_url.rstrip("/") + "/",
        }
    if kind == "choices":
        return {"purposes": list(facts.purposes)}
    raise InvalidInputError(
        f"The `{kind}` block (line {block.line}) needs the company's own words: Rightful "
        "cannot fill it. docs/notices.md shows its entries."
    )


def fill(session: Any, segments: list[Segment], facts: Facts, settings: Settings) -> list[Segment]:
    """The segments with every empty block filled."""
    names = taxonomy.names(session, "data_use")
    out: list[Segment] = []
    for s in segments:
        if isinstance(s, Block) and s.filled_by_rightful:
            s = replace(s, body=_body(s, segments, facts, settings, names), filled=True)
        out.append(s)
    return out
