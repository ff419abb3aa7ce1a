"""The checks of who receives what: recipients, and what is sold or shared."""

from __future__ import annotations

from typing import Any

from rightful.core.config import Settings
from rightful.notices.blocks import Block
from rightful.notices.facts import Facts, Given
from rightful.notices.mismatch import (
    ABSENT,
    UNDISCLOSED,
    Mismatch,
    covered,
    notice_categories,
)


def _say(what: str, partner: str, categories: str, *, start: bool = True) -> str:
    """`what` ("{partner} receives {categories}") filled in, as a sentence's start or not."""
    words = what.format(partner=partner, categories=categories)
    return words[0].upper() + words[1:] if start else words


def _partner_entries(entries: list[dict[str, Any]]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for e in entries:
        out.setdefault(e["partner"], []).extend(e["categories"])
    return out


def _given_check(
    block: str,
    entries: list[dict[str, Any]],
    given: list[Given],
    what: str,
    cats: dict[str, dict[str, Any]],
) -> list[Mismatch]:
    named = _partner_entries(entries)
    out = []
    for g in given:
        if g.partner not in named:
            out.append(
                Mismatch(
                    block,
                    UNDISCLOSED,
                    _say(what, f"{g.partner_name} ({g.partner})", ", ".join(g.data_categories))
                    + ", but the notice does not say so.",
                    f"Add {g.partner} to the `{block}` block with the categories it receives.",
                )
            )
            continue
        for held in g.data_categories:
            if not covered(named[g.partner], cats, held):
                out.append(
                    Mismatch(
                        block,
                        UNDISCLOSED,
                        _say(what, f"{g.partner_name} ({g.partner})", held)
                        + ", a category the notice does not name for it.",
                        f"Add the notice category that covers {held} to {g.partner}'s entry in "
                        f"the `{block}` block.",
                    )
                )
    return out


def _given_reverse(
    block: str,
    entries: list[dict[str, Any]],
    given: list[Given],
    what: str,
    cats: dict[str, dict[str, Any]],
) -> list[Mismatch]:
    out = []
    for partner, keys in _partner_entries(entries).items():
        mine = [g for g in given if g.partner == partner]
        if not mine:
            out.append(
                Mismatch(
                    block,
                    ABSENT,
                    "The notice says "
                    + _say(what, partner, "personal information", start=False)
                    + ", but the data map records no such disclosure.",
                    f"Remove {partner} from the `{block}` block, or add the disclosure to the "
                    "data map.",
                )
            )
            continue
        for key in keys:
            if key not in cats:
                out.append(
                    Mismatch(
                        block,
                        ABSENT,
                        f"The notice names the category '{key}' for {partner}, but the notice has "
                        "no such category.",
                        "Use a key from the `categories` block.",
                    )
                )
            elif not any(covered([key], cats, h) for g in mine for h in g.data_categories):
                out.append(
                    Mismatch(
                        block,
                        ABSENT,
                        "The notice says "
                        + _say(what, partner, f"'{key}'", start=False)
                        + ", but the data map records no "
                        "such disclosure.",
                        f"Remove '{key}' from {partner}'s entry, or add the disclosure to the "
                        "data map.",
                    )
                )
    return out


RECEIVES = "{partner} receives {categories}"
SOLD = "we sell {categories} to {partner}"
SHARED = "we share {categories} with {partner} for cross-context behavioural advertising"


def check_recipients(
    b: Block, facts: Facts, blocks: dict[str, Block], _: Settings
) -> list[Mismatch]:
    """Every partner the data map gives data to, with each category, and no other."""
    cats = notice_categories(blocks)
    given = facts.given
    return _given_check("recipients", b.body, given, RECEIVES, cats) + _given_reverse(
        "recipients", b.body, given, RECEIVES, cats
    )


def check_sale_share(
    b: Block, facts: Facts, blocks: dict[str, Block], _: Settings
) -> list[Mismatch]:
    """Every sale and share in the disclosures, and no other."""
    cats = notice_categories(blocks)
    sold = [g for g in facts.given if g.sale]
    shared = [g for g in facts.given if g.share]
    return (
        _given_check("sale-share", b.body["sold"], sold, SOLD, cats)
        + _given_check("sale-share", b.body["shared"], shared, SHARED, cats)
        + _given_reverse("sale-share", b.body["sold"], sold, SOLD, cats)
        + _given_reverse("sale-share", b.body["shared"], shared, SHARED, cats)
    )
