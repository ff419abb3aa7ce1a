"""The readable page of an access package: records as a person thinks of them.

Each collection is a section (your account, addresses, orders, …) in the data map's words;
rows a collection shows `within` another appear inside their row (an order's items, a
conversation's messages); events are summarised. Internal ids and the fields that link rows
stay in data.json and the CSV files; secrets are only named, per kind.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

from rightful.connectors.base import Row
from rightful.inventory.specs import CollectionSpec, FieldSpec
from rightful.rights.package_rows import Link, PackageContent, Part, same
from rightful.rights.withholding import Kind, is_financial, withheld_kind

RECENT_EVENTS = 5  # events listed on the page; all of them are in data.json and the CSV files


@dataclass(frozen=True)
class Table:
    """Rows under column headings."""

    caption: str
    columns: list[str]
    rows: list[list[str]]


@dataclass(frozen=True)
class Record:
    """One thing the person recognises (an order, a conversation) with what belongs to it."""

    title: str
    facts: list[tuple[str, str]]
    tables: list[Table] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Section:
    """One collection on the page."""

    id: str
    label: str
    system: str
    count: int
    intro: str = ""
    records: list[Record] = field(default_factory=list)
    table: Table | None = None
    holds_back: bool = False


@dataclass(frozen=True)
class Category:
    """A kind of data found (fideslang's category names), its fields and where they show."""

    name: str
    labels: list[str]
    sections: list[Section]

    @property
    def covers(self) -> str:
        """The fields, as a phrase: `E-mail address, phone number, ZIP code`."""
        return ", ".join([self.labels[0], *map(_lower_first, self.labels[1:])])


@dataclass(frozen=True)
class Page:
    """Everything the readable page shows."""

    period: str
    sections: list[Section]
    categories: list[Category]
    withheld: list[tuple[str, str, str]]  # (we hold …, which details, why we do not show them)


def moment(text: str) -> str:
    """An ISO date or time as a person reads it: `March 14, 1988`, `October 5, 2026, 12:00`."""
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            return f"{day:%B} {day.day}, {day.year}"
        at = datetime.fromisoformat(text)
    except ValueError:
        return text
    return f"{at:%B} {at.day}, {at.year}, {at:%H:%M}"


def display(spec: FieldSpec | None, value: Any) -> str:
    """A value in words: mapped through the field's `values`, money, dates, yes and no."""
    if value is None or value == "":
        return ""
    if spec is not None and spec.values and str(value) in spec.values:
        return spec.values[str(value)]
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if spec is not None and spec.currency and isinstance(value, int | float):
        symbol = {"USD": "$", "EUR": "€", "GBP": "£"}.get(spec.currency.upper())
        amount = f"{value:,.2f}"
        return f"{symbol}{amount}" if symbol else f"{amount} {spec.currency}"
    if isinstance(value, dict):
        return "; ".join(f"{k}: {display(None, v)}" for k, v in value.items() if v is not None)
    if isinstance(value, list):
        return ", ".join(display(None, v) for v in value)
    return moment(str(value))


def _label(coll: CollectionSpec) -> str:
    return coll.label or coll.name.replace("_", " ").capitalize()


def _lower_first(text: str) -> str:
    # "Phone number" reads "phone number" mid-sentence; "IP address" stays as it is.
    return text[0].lower() + text[1:] if text[1:2].islower() else text


def _shown(part: Part, found_links: list[Link]) -> list[FieldSpec]:
    """Fields a person reads on the page: no ids, no linking fields, no secrets."""
    coll, financial = part.collection, is_financial(part.collection)
    linking = {k.child_field for k in found_links if k.child == coll.address}
    return [
        spec
        for spec in coll.fields
        if not (spec.primary_key or spec.references or spec.hidden or spec.name in linking)
        and not any(c.startswith("user.unique_id") for c in spec.data_categories)
        and withheld_kind(spec, financial=financial) is None
        and any(r.get(spec.name) not in (None, "") for r in part.rows)
    ]


def _table(caption: str, specs: list[FieldSpec], rows: list[Row]) -> Table:
    return Table(
        caption,
        [s.readable_name for s in specs],
        [[display(s, r.get(s.name)) for s in specs] for r in rows],
    )


_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def _title(coll: CollectionSpec, row: Row, number: int, total: int) -> str:
    """The record's heading from the collection's `record`; a moment shows as its day."""
    if not coll.record:
        return f"{_label(coll)}, {number} of {total}"

    def fill(found: re.Match[str]) -> str:
        value = row.get(found[1])
        if isinstance(value, str) and re.match(r"\d{4}-\d{2}-\d{2}T", value):
            value = value[:10]
        return display(coll.field(found[1]), value)

    return _PLACEHOLDER.sub(fill, coll.record).strip()


def _record(part: Part, number: int, kids: list[tuple[Part, Link]], page: _Builder) -> Record:
    coll, row = part.collection, part.rows[number - 1]
    # A lone record of a collection without a `record` heading needs none (your account).
    titled = bool(coll.record or kids or len(part.rows) > 1)
    in_title = set(_PLACEHOLDER.findall(coll.record))
    shown = [s for s in _shown(part, page.links) if s.name not in in_title]
    record = Record(
        _title(coll, row, number, len(part.rows)) if titled else "",
        [
            (s.readable_name, display(s, row.get(s.name)))
            for s in shown
            if row.get(s.name) not in (None, "")
        ],
    )
    for kid, link in kids:
        mine = [
            r for r in kid.rows if same(r.get(link.child_field)) == same(row.get(link.parent_field))
        ]
        if mine:
            record.tables.append(_table(_label(kid.collection), _shown(kid, page.links), mine))
        elif kid.collection.events:
            record.notes.append(
                f"No {_lower_first(_label(kid.collection))} in the period you asked about."
            )
    return record


def _events(part: Part, page: _Builder) -> tuple[str, Table]:
    """A summary (how many, from when to when) and the most recent few."""
    when = part.collection.date_field or ""
    latest = sorted(part.rows, key=lambda r: str(r.get(when) or ""), reverse=True)
    days = [moment(str(r[when])[:10]) for r in latest if r.get(when)]
    span = f", from {days[-1]} to {days[0]}" if days else ""
    listed = latest[:RECENT_EVENTS]
    if len(listed) < len(latest):
        intro = (
            f"{len(latest)} recorded{span}. The most recent {len(listed)} are below; all of "
            "them are in data.json and the csv folder."
        )
        caption = f"The most recent {len(listed)}"
    else:
        intro, caption = f"{len(latest)} recorded{span}.", "Most recent first"
    return intro, _table(caption, _shown(part, page.links), listed)


@dataclass
class _Builder:
    content: PackageContent
    nested: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        # Rows show inside their parent's records when the parent is a section of its own
        # (not itself shown inside another, not a summary of events); otherwise apart.
        parts = {p.collection.address: p for p in self.content.parts if p.rows}
        joined = {(k.child, k.parent) for k in self.content.links}
        for part in self.content.parts:
            parent = parts.get(part.collection.within or "")
            if (
                parent is not None
                and not parent.collection.events
                and parent.collection.within not in parts
                and (part.collection.address, parent.collection.address) in joined
            ):
                self.nested.add(part.collection.address)

    @property
    def links(self) -> list[Link]:
        return self.content.links

    def children(self, parent: Part) -> list[tuple[Part, Link]]:
        """The collections shown inside `parent`'s records, each with the link that joins them."""
        out = []
        for part in self.content.parts:
            address = part.collection.address
            if address not in self.nested or part.collection.within != parent.collection.address:
                continue
            joins = [
                k for k in self.links if (k.child, k.parent) == (address, part.collection.within)
            ]
            if joins:
                out.append((part, joins[0]))
        return out

    def section(self, part: Part) -> Section:
        coll = part.collection
        base = Section(
            id=f"s-{coll.dataset}-{coll.name}",
            label=_label(coll),
            system=part.system,
            count=len(part.rows),
            holds_back=bool(part.withheld),
        )
        kids = self.children(part)
        if coll.events:
            intro, table = _events(part, self)
            return replace(base, intro=intro, table=table)
        if kids or len(part.rows) == 1:
            records = [_record(part, n, kids, self) for n in range(1, len(part.rows) + 1)]
            return replace(base, records=records)
        # Captioned by the section's heading.
        return replace(base, table=_table("", _shown(part, self.links), part.rows))


def build_page(content: PackageContent) -> Page:
    """The readable page's sections, summary of categories and withheld kinds."""
    builder = _Builder(content)
    top = [p for p in content.parts if p.rows and p.collection.address not in builder.nested]
    top.sort(
        key=lambda p: (
            p.collection.position is None,
            p.collection.position or 0,
            _label(p.collection),
        )
    )
    sections = [builder.section(p) for p in top]
    return Page(
        period=_period(content),
        sections=sections,
        categories=_categories(content, sections),
        withheld=_withheld(content),
    )


def _period(content: PackageContent) -> str:
    events = [_lower_first(_label(p.collection)) for p in content.parts if p.collection.events]
    if not events or content.date_from is None:
        return "This copy holds everything we hold about you, whenever we collected it."
    listed = ", ".join(events[:-1]) + (" and " if len(events) > 1 else "") + events[-1]
    covered = f"from {moment(content.date_from.isoformat())}"
    if content.date_to is not None:
        covered += f" to {moment(content.date_to.isoformat())}"
    return (
        "This copy holds everything we hold about you, whenever we collected it. "
        f"For {listed}, it holds what happened {covered}, the period you asked about."
    )


def _categories(content: PackageContent, sections: list[Section]) -> list[Category]:
    """Each kind of data found, what it covers and the sections that show it."""
    where = {s.id: s for s in sections}
    top_of = {
        p.collection.address: f"s-{p.collection.dataset}-{p.collection.name}" for p in content.parts
    }
    for part in content.parts:  # rows shown within another collection count for its section
        if part.collection.within in top_of:
            top_of[part.collection.address] = top_of[part.collection.within]
    groups: dict[str, Category] = {}
    for part in content.parts:
        for spec in part.collection.fields:
            if not any(r.get(spec.name) is not None for r in part.rows):
                continue
            for category in spec.data_categories:
                if not category.startswith("user."):
                    continue
                top = ".".join(category.split(".")[:2])
                name = content.category_names.get(top) or top[5:].replace("_", " ").capitalize()
                group = groups.setdefault(name, Category(name, [], []))
                if spec.readable_name not in group.labels:
                    group.labels.append(spec.readable_name)
                section = where.get(top_of[part.collection.address])
                if section is not None and section not in group.sections:
                    group.sections.append(section)
    order = {s.id: n for n, s in enumerate(sections)}
    for group in groups.values():
        group.sections.sort(key=lambda s: order[s.id])
    return sorted(groups.values(), key=lambda g: g.name)


def _withheld(content: PackageContent) -> list[tuple[str, str, str]]:
    kinds: dict[str, Kind] = {}
    labels: dict[str, list[str]] = {}
    where: dict[str, list[str]] = {}
    for part in content.parts:
        for w in part.withheld:
            kinds[w.kind.key] = w.kind
            for found, text in ((labels, w.spec.readable_name), (where, _label(part.collection))):
                if text not in found.setdefault(w.kind.key, []):
                    found[w.kind.key].append(text)
    return [
        (
            kind.held,
            f"{', '.join(map(_lower_first, labels[key]))} ({', '.join(where[key])})",
            kind.why,
        )
        for key, kind in kinds.items()
    ]
