"""The retention check: the notice may never keep data for less time than practice does."""

from __future__ import annotations

from typing import Any

from rightful.core.config import Settings
from rightful.notices.blocks import Block
from rightful.notices.ccpa import covers
from rightful.notices.facts import Facts
from rightful.notices.mismatch import (
    ABSENT,
    UNDISCLOSED,
    UNTRUE,
    Mismatch,
    covered,
    notice_categories,
)


def _practice(
    facts: Facts, key: str, cats: dict[str, dict[str, Any]]
) -> tuple[dict[str, tuple[str, int | None]], dict[str, tuple[str, int]]]:
    """Under a notice category: each place and how long it keeps the data (None: no end),
    and each rule that keeps data after a deletion request, with its days."""
    places: dict[str, tuple[str, int | None]] = {}
    after: dict[str, tuple[str, int]] = {}
    for held in facts.held:
        if not covered([key], cats, held):
            continue
        for k in facts.kept.get(held, []):
            places.setdefault(k.where, (held, k.days))
        for rule_cat, kept in facts.kept_after_deletion.items():
            if covers(rule_cat, held) and kept.days:
                after.setdefault(kept.where, (held, kept.days))
    return places, after


def _retention_of(
    key: str, r: dict[str, Any], facts: Facts, cats: dict[str, dict[str, Any]]
) -> list[Mismatch]:
    out = []
    places, after = _practice(facts, key, cats)
    fix = (
        f"Lengthen the period in the `retention` entry for {key}, or shorten the retention "
        "schedule or erasure policy."
    )
    if r["days"]:
        for where, (held, days) in places.items():
            if days is None or days > r["days"]:
                kept = f"for {days} days" if days else "with no end date"
                out.append(
                    Mismatch(
                        "retention",
                        UNTRUE,
                        f"The notice keeps '{key}' at most {r['days']} days, but {where} keeps "
                        f"{held} {kept}.",
                        fix,
                    )
                )
    for where, (held, days) in after.items():
        stated = r["after_deletion_days"] or 0
        if days > stated:
            said = f"only {stated} days" if stated else "nothing"
            out.append(
                Mismatch(
                    "retention",
                    UNTRUE,
                    f"The notice keeps '{key}' {said} after a deletion request, but {where} keeps "
                    f"{held} for {days} days.",
                    f"Set after_deletion_days: {days} (or more) in the `retention` entry for "
                    f"{key}, or change the erasure policy.",
                )
            )
    return out


def check_retention(
    b: Block, facts: Facts, blocks: dict[str, Block], _: Settings
) -> list[Mismatch]:
    cats = notice_categories(blocks)
    stated = {r["category"]: r for r in b.body}
    out = [
        Mismatch(
            "retention",
            UNDISCLOSED,
            f"The notice does not say how long it keeps '{key}'.",
            f"Add a `retention` entry for {key}.",
        )
        for key in cats
        if key not in stated
    ]
    for key, r in stated.items():
        if key not in cats:
            out.append(
                Mismatch(
                    "retention",
                    ABSENT,
                    f"The `retention` block names '{key}', which is not a category in the notice.",
                    "Use a key from the `categories` block.",
                )
            )
            continue
        out += _retention_of(key, r, facts, cats)
    return out
