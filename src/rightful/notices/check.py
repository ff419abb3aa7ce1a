"""Is the notice true? Each block against what Rightful holds, in both directions: what is held
but not disclosed, and what is disclosed but not held (or not as practised)."""

from __future__ import annotations

from collections.abc import Callable

from rightful import laws
from rightful.core.config import Settings
from rightful.notices.blocks import Block
from rightful.notices.ccpa import covers, is_sensitive
from rightful.notices.check_given import check_recipients, check_sale_share
from rightful.notices.check_retention import check_retention
from rightful.notices.facts import Facts
from rightful.notices.mismatch import (
    ABSENT,
    UNDISCLOSED,
    UNTRUE,
    Mismatch,
    covered,
    notice_categories,
    use_under,
    where_of,
)

REQUIRED = (
    "categories",
    "sources",
    "purposes",
    "recipients",
    "sale-share",
    "retention",
    "sensitive",
    "signals",
    "children",
    "rights",
    "contact",
    "choices",
)


def check_categories(
    b: Block, facts: Facts, blocks: dict[str, Block], _: Settings
) -> list[Mismatch]:
    keys = [k for c in b.body for k in c["data_categories"]]
    out = [
        Mismatch(
            "categories",
            UNDISCLOSED,
            f"The data map holds {held} ({where_of(where)}), but no category in the notice covers "
            "it.",
            "Add it to a `categories` entry's data_categories, or correct the field's annotation "
            "in the data map.",
        )
        for held, where in facts.held.items()
        if not any(covers(k, held) for k in keys)
    ]
    for c in b.body:
        for key in c["data_categories"]:
            if not facts.held_under(key):
                out.append(
                    Mismatch(
                        "categories",
                        ABSENT,
                        f"The notice says '{c['name'] or c['key']}' includes {key}, but nothing "
                        "in the data map holds it.",
                        f"Remove {key} from the `categories` entry '{c['key']}', or annotate the "
                        "field that holds it.",
                    )
                )
    return out


def check_sources(b: Block, facts: Facts, blocks: dict[str, Block], _: Settings) -> list[Mismatch]:
    named = {t.strip().lower() for e in b.body for t in (e["covers"] or [e["words"]])}
    known = {s.strip().lower(): s for s in facts.sources}
    out = [
        Mismatch(
            "sources",
            UNDISCLOSED,
            f'The data map declares the source "{s}" ({where_of(facts.sources[s])}), '
            "which the notice does not list.",
            "Add it to the `sources` block (as an entry, or in an entry's covers).",
        )
        for low, s in known.items()
        if low not in named
    ]
    out += [
        Mismatch(
            "sources",
            ABSENT,
            f'The notice lists the source "{t}", which no system in the data map declares.',
            "Remove it from the `sources` block, or add it to the system's privacy declaration.",
        )
        for t in sorted(named - set(known))
    ]
    return out


def check_purposes(b: Block, facts: Facts, blocks: dict[str, Block], _: Settings) -> list[Mismatch]:
    named = [u for e in b.body for u in e["data_uses"]]
    out = [
        Mismatch(
            "purposes",
            UNDISCLOSED,
            f"The data map uses personal information for {use} ({where_of(where)}), a purpose the "
            "notice does not state.",
            "Add the data use to a `purposes` entry.",
        )
        for use, where in facts.uses.items()
        if not any(use_under(n, use) for n in named)
    ]
    out += [
        Mismatch(
            "purposes",
            ABSENT,
            f"The notice states the purpose {n}, which nothing in the data map uses.",
            "Remove it from the `purposes` block, or declare it on the system that uses it.",
        )
        for n in named
        if not any(use_under(n, use) for use in facts.uses)
    ]
    return out


def check_sensitive(
    b: Block, facts: Facts, blocks: dict[str, Block], _: Settings
) -> list[Mismatch]:
    cats = notice_categories(blocks)
    keys = [s["category"] for s in b.body]
    out = [
        Mismatch(
            "sensitive",
            UNDISCLOSED,
            f"The data map holds {held}, sensitive personal information ({where_of(where)}), which "
            "the `sensitive` block does not name.",
            "Add the notice category that covers it to the `sensitive` block, with its uses.",
        )
        for held, where in facts.held.items()
        if is_sensitive(held) and not covered(keys, cats, held)
    ]
    out += [
        Mismatch(
            "sensitive",
            ABSENT,
            f"The notice calls '{key}' sensitive personal information, but the data map holds "
            "none under it.",
            f"Remove '{key}' from the `sensitive` block.",
        )
        for key in keys
        if not any(is_sensitive(h) and covered([key], cats, h) for h in facts.held)
    ]
    return out


def check_signals(b: Block, facts: Facts, blocks: dict[str, Block], _: Settings) -> list[Mismatch]:
    out = []
    if b.body["gpc"] != "honored":
        out.append(
            Mismatch(
                "signals",
                UNTRUE,
                "The notice says Global Privacy Control is not acted on, but Rightful honours it "
                "on every page and in the cookie banner.",
                "Say `gpc: honored` in the `signals` block.",
            )
        )
    if b.body["dnt"] != "ignored":
        out.append(
            Mismatch(
                "signals",
                UNTRUE,
                "The notice says Do Not Track is honoured, but nothing acts on it.",
                "Say `dnt: ignored` in the `signals` block.",
            )
        )
    return out


def check_children(b: Block, facts: Facts, blocks: dict[str, Block], _: Settings) -> list[Mismatch]:
    held = "child" in facts.subjects
    if held and not b.body["collects_from_children"]:
        return [
            Mismatch(
                "children",
                UNDISCLOSED,
                "A system in the data map declares children among its data subjects, but the "
                "notice says we do not collect from children.",
                "Set collects_from_children: true in the `children` block, or correct the "
                "declaration.",
            )
        ]
    if b.body["collects_from_children"] and not held:
        return [
            Mismatch(
                "children",
                ABSENT,
                "The notice says we collect from children, but no system declares children as "
                "data subjects.",
                "Set collects_from_children: false, or declare the data subject `child`.",
            )
        ]
    return []


def check_rights(b: Block, facts: Facts, blocks: dict[str, Block], _: Settings) -> list[Mismatch]:
    pack = laws.rules_for(b.arg)
    given = [k for k in laws.KINDS if pack.rights.grants(k)]
    out = [
        Mismatch(
            "rights",
            UNDISCLOSED,
            f"The {pack.law} gives the right '{k}' in {b.arg}, which the notice does not list.",
            f"Add {k} to the `rights {b.arg}` block (or leave the block empty to have it filled).",
        )
        for k in given
        if k not in b.body["kinds"]
    ]
    out += [
        Mismatch(
            "rights",
            ABSENT,
            f"The notice lists '{k}' for {b.arg}, a right the {pack.law} does not give.",
            f"Remove {k} from the `rights {b.arg}` block.",
        )
        for k in b.body["kinds"]
        if k not in given
    ]
    return out


def check_contact(
    b: Block, facts: Facts, blocks: dict[str, Block], settings: Settings
) -> list[Mismatch]:
    out = []
    for key, truth in (
        ("email", settings.privacy_email),
        ("postal_address", settings.postal_address),
    ):
        if b.body[key] and " ".join(b.body[key].split()) != " ".join(truth.split()):
            what = key.replace("_", " ")
            out.append(
                Mismatch(
                    "contact",
                    UNTRUE,
                    f'The notice gives the {what} "{b.body[key]}", '
                    f'but requests are answered at "{truth}".',
                    f"Correct the `contact` block, or the setting RIGHTFUL_{key.upper()}.",
                )
            )
    return out


def check_choices(b: Block, facts: Facts, blocks: dict[str, Block], _: Settings) -> list[Mismatch]:
    named = b.body["purposes"]
    out = [
        Mismatch(
            "choices",
            UNDISCLOSED,
            f"The consent catalogue offers the choice '{p}', which the notice does not mention.",
            "Add it to the `choices` block.",
        )
        for p in facts.purposes
        if p not in named
    ]
    out += [
        Mismatch(
            "choices",
            ABSENT,
            f"The notice offers the choice '{p}', which is not in the consent catalogue.",
            "Remove it from the `choices` block, or add it with `rightful consent apply`.",
        )
        for p in named
        if p not in facts.purposes
    ]
    return out


CHECKS: dict[str, Callable[[Block, Facts, dict[str, Block], Settings], list[Mismatch]]] = {
    "categories": check_categories,
    "sources": check_sources,
    "purposes": check_purposes,
    "recipients": check_recipients,
    "sale-share": check_sale_share,
    "retention": check_retention,
    "sensitive": check_sensitive,
    "signals": check_signals,
    "children": check_children,
    "rights": check_rights,
    "contact": check_contact,
    "choices": check_choices,
}


def check(blocks: list[Block], facts: Facts, settings: Settings) -> list[Mismatch]:
    """Every mismatch between filled blocks and the truth; none when the notice is true."""
    by_kind = {b.kind: b for b in blocks}
    out = [
        Mismatch(
            kind,
            UNDISCLOSED,
            f"The notice has no `{kind}` block.",
            f"Add ```notice {kind}``` (docs/notices.md shows it).",
        )
        for kind in REQUIRED
        if kind not in by_kind
    ]
    for b in blocks:
        out += CHECKS[b.kind](b, facts, by_kind, settings)
    return out
