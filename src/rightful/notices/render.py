"""A notice as readable Markdown (blocks written out in plain words), and that Markdown as
HTML with an id on every heading and a table of contents."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from rightful import laws
from rightful.notices.blocks import Block, Segment
from rightful.notices.ccpa import CATEGORIES
from rightful.rights.kinds import labels


@dataclass(frozen=True)
class Names:
    """What blocks refer to by key, in words: partners and consent purposes."""

    partners: dict[str, str] = field(default_factory=dict)
    purposes: dict[str, str] = field(default_factory=dict)
    # How to use one's rights: the privacy center's address, the mailbox, the postal address.
    privacy_center: str = ""
    email: str = ""
    postal_address: str = ""


def _cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def _years(days: int) -> str:
    if days % 365 == 0 or days in (2557, 2556, 1826, 1827):
        years = round(days / 365.25)
        return f"{years} year{'s' if years != 1 else ''}"
    return f"{days} days"


def category_names(segments: list[Segment]) -> dict[str, str]:
    """Notice category key -> its name."""
    for s in segments:
        if isinstance(s, Block) and s.kind == "categories":
            return {c["key"]: c["name"] or CATEGORIES[c["ccpa"]] for c in s.body or []}
    return {}


def _list(items: list[str]) -> str:
    return "\n".join(f"- {i}" for i in items) if items else "- None."


def _who(entry: dict[str, Any], names: Names, cats: dict[str, str]) -> str:
    partner = names.partners.get(entry["partner"], entry["partner"])
    what = ", ".join(cats.get(k, k) for k in entry["categories"])
    return f"{partner}{' (' + entry['words'] + ')' if entry['words'] else ''}: {what}"


def _how(names: Names) -> str:
    ways = []
    if names.privacy_center:
        ways.append(f"make a request in our [privacy center]({names.privacy_center}requests/new)")
    if names.email:
        ways.append(f"e-mail [{names.email}](mailto:{names.email})")
    if names.postal_address:
        ways.append(f"write to {names.postal_address}")
    if not ways:
        return ""
    listed = ", ".join(ways[:-1]) + (" or " if len(ways) > 1 else "") + ways[-1]
    return f"To use these rights, {listed}. "


def _rights(arg: str, body: dict[str, Any], names: Names) -> str:
    pack = laws.rules_for(arg)
    kinds = labels()
    lines = [f"- {kinds.get(k, k.replace('_', ' ').capitalize())}" for k in body["kinds"]]
    after = _how(names) + (
        f"Under the {pack.law} we answer within {pack.respond.period.describe()}"
        f" ({pack.respond.cite})."
    )
    if pack.appeal.exists:
        after += (
            " If we refuse, you may appeal, and we tell you how to reach the regulator if we "
            "uphold the refusal."
        )
    after += " We will not treat you differently for using these rights."
    return "\n".join(lines) + "\n\n" + after


def _signals(body: dict[str, Any]) -> str:
    gpc = (
        "If your browser sends a Global Privacy Control signal, we treat it as your request to "
        "opt out of the sale and sharing of your personal information and of targeted "
        "advertising, for that browser, and for you when you are signed in."
        if body["gpc"] == "honored"
        else "We do not act on Global Privacy Control signals."
    )
    dnt = (
        "We treat a Do Not Track signal like Global Privacy Control."
        if body["dnt"] == "honored"
        else "We do not respond to Do Not Track signals: there is no agreed meaning for them."
    )
    return f"{gpc}\n\n{dnt}"


def _retention(body: list[dict[str, Any]], cats: dict[str, str]) -> str:
    rows = ["| Category | How long we keep it |", "| --- | --- |"]
    for r in body:
        period = f"Up to {_years(r['days'])}" if r["days"] else ""
        if r["until"]:
            period = (
                f"{period}, or {r['until']}" if period else r["until"][0].upper() + r["until"][1:]
            )
        if r["after_deletion_days"]:
            period += f"; {_years(r['after_deletion_days'])} after you ask us to delete it"
        if r["words"]:
            period = f"{period}. {r['words']}" if period else r["words"]
        rows.append(f"| {_cell(cats.get(r['category'], r['category']))} | {_cell(period)} |")
    return "\n".join(rows)


def block_markdown(block: Block, names: Names, cats: dict[str, str]) -> str:
    """One block in plain words."""
    body = block.body
    kind = block.kind
    if kind == "categories":
        rows = ["| Category | What we collect | CCPA category |", "| --- | --- | --- |"]
        rows += [
            f"| {_cell(c['name'] or CATEGORIES[c['ccpa']])} | {_cell(c['words'])} | "
            f"{_cell(CATEGORIES[c['ccpa']])} |"
            for c in body
        ]
        return "\n".join(rows)
    if kind in ("sources", "purposes"):
        return _list([e["words"] for e in body])
    if kind == "recipients":
        return _list([_who(e, names, cats) for e in body])
    if kind == "sale-share":
        parts = []
        for bucket, verb in (("sold", "sell"), ("shared", "share")):
            whom = [_who(e, names, cats) for e in body[bucket]]
            if whom:
                parts.append(
                    "In the past 12 months we "
                    f"{'sold' if verb == 'sell' else 'shared'}:\n\n{_list(whom)}"
                )
            else:
                parts.append(f"We do not {verb} your personal information.")
        age = "" if body["under_16"] else "not "
        parts.append(
            f"We do {age}sell or share the personal information of consumers we know are under 16."
        )
        return "\n\n".join(parts)
    if kind == "retention":
        return _retention(body, cats)
    if kind == "sensitive":
        lines = []
        for s in body:
            lines.append(
                f"- {cats.get(s['category'], s['category'])}: used for "
                f"{', '.join(s['uses']).lower()}."
            )
        permitted = all(s["only_permitted_uses"] for s in body)
        if permitted:
            lines.append(
                "\nWe use sensitive personal information only for the purposes the law allows "
                "(Cal. Code Regs. tit. 11, § 7027(m)), so there is nothing to limit."
            )
        return "\n".join(lines) if body else "We do not collect sensitive personal information."
    if kind == "signals":
        return _signals(body)
    if kind == "children":
        if body["collects_from_children"]:
            return (
                f"We collect personal information of children under {body['minimum_age']} only "
                "with a parent's verifiable consent."
            )
        return (
            f"Our products and services are not meant for children under {body['minimum_age']}, "
            "and we do not knowingly collect their personal information. A parent who believes "
            "we hold their child's information can ask us to delete it."
        )
    if kind == "rights":
        return _rights(block.arg, body, names)
    if kind == "contact":
        return (
            f"- Privacy center: [{body['privacy_center']}]({body['privacy_center']})\n"
            f"- E-mail: [{body['email']}](mailto:{body['email']})\n"
            f"- Post: {body['postal_address']}"
        )
    titles = [names.purposes.get(k, k) for k in body["purposes"]]
    return _list(titles) + "\n\nChange them at any time on the [preferences page](/preferences)."


def to_markdown(segments: list[Segment], names: Names) -> str:
    """The whole notice as Markdown, every block written out."""
    cats = category_names(segments)
    parts = [s if isinstance(s, str) else block_markdown(s, names, cats) for s in segments]
    return "\n".join(parts).strip() + "\n"


@dataclass(frozen=True)
class Heading:
    """A heading of the rendered notice: its level, words and anchor."""

    level: int
    text: str
    anchor: str


def slug(text: str) -> str:
    """A stable anchor for a heading: lower case, ASCII, dashes."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", plain.lower()).strip("-") or "section"


# Ids the pages around the notice use themselves.
RESERVED = frozenset({"main", "top", "contents-title", "versions-title", "text-title"})


def to_html(markdown: str) -> tuple[str, list[Heading]]:
    """HTML (raw HTML in the source is escaped, not passed through) and the headings, each
    with a unique id."""
    from markdown_it import MarkdownIt  # loaded when a notice is first shown, not at start

    md = MarkdownIt("commonmark", {"html": False}).enable("table")
    tokens = md.parse(markdown)
    headings: list[Heading] = []
    seen: set[str] = set(RESERVED)
    for i, tok in enumerate(tokens):
        if tok.type != "heading_open":
            continue
        text = tokens[i + 1].content
        anchor, n = slug(text), 2
        while anchor in seen:
            anchor, n = f"{slug(text)}-{n}", n + 1
        seen.add(anchor)
        tok.attrSet("id", anchor)
        headings.append(Heading(int(tok.tag[1]), text, anchor))
    # Column headers say so (WCAG 1.3.1): Markdown tables have headers in their first row only.
    for tok in tokens:
        if tok.type == "th_open":
            tok.attrSet("scope", "col")
    return md.renderer.render(tokens, md.options, {}), headings


def split_title(markdown: str) -> tuple[str, str]:
    """The notice's leading `# Title` (or "") and the Markdown after it, for a page that shows
    the title above its own dates and contents."""
    first, _, rest = markdown.lstrip().partition("\n")
    if first.startswith("# "):
        return first[2:].strip(), rest
    return "", markdown
