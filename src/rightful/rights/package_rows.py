"""Which rows and values go into an access package.

Everything the company still holds about the person goes in, whenever it was collected. A
request's period limits only collections the data map marks as events (`rightful: {events:
true}`: visits, sign-ins, messages). A row that an included row references goes in too, so an
order's items never lose their order and a visit never loses its device. Secrets never go in:
their value is replaced by `WITHHELD` and the package says, per kind, that we hold them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from rightful.connectors.base import Row
from rightful.inventory import keys
from rightful.inventory.specs import CollectionSpec, FieldSpec
from rightful.rights.values import plain
from rightful.rights.withholding import WITHHELD, Kind, is_financial, withheld_kind


@dataclass(frozen=True)
class Link:
    """Rows of `child` point at rows of `parent`: `child.child_field` holds `parent_field`."""

    child: str
    child_field: str
    parent: str
    parent_field: str


@dataclass(frozen=True)
class Withheld:
    """A field whose value the package holds back."""

    path: str
    spec: FieldSpec
    kind: Kind


@dataclass
class Part:
    """One collection's rows as they go into the package."""

    collection: CollectionSpec
    system: str
    rows: list[Row]
    withheld: list[Withheld] = field(default_factory=list)


@dataclass
class PackageContent:
    """What goes into a package, before it is written."""

    parts: list[Part] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    category_names: dict[str, str] = field(default_factory=dict)
    date_from: date | None = None
    date_to: date | None = None

    @property
    def records(self) -> dict[str, dict[str, list[Row]]]:
        """Rows by system name and collection name, for data.json and the CSV files."""
        out: dict[str, dict[str, list[Row]]] = {}
        for part in self.parts:
            if part.rows:
                out.setdefault(part.system, {})[part.collection.name] = part.rows
        return out

    @property
    def withheld(self) -> list[dict[str, str]]:
        """Every field held back, for data.json."""
        return [
            {
                "system": part.system,
                "collection": part.collection.name,
                "field": w.path,
                "label": w.spec.readable_name,
                "kind": w.kind.held,
            }
            for part in self.parts
            for w in part.withheld
        ]


def same(value: Any) -> str | None:
    """A value as references compare it: `1` from one store matches `"1"` from another."""
    return None if value is None else str(value)


def links(collections: Mapping[str, CollectionSpec], among: set[str]) -> list[Link]:
    """Which collections' rows point at which, from the dataset references between them.

    A reference `from` another collection points at it; `to` is the other way round; without
    a direction, the side whose field is its collection's key is the one pointed at.
    """
    found: list[Link] = []
    for address in sorted(among):
        for path, spec in collections[address].walk():
            for ref in spec.references:
                other = f"{ref.dataset}:{ref.collection}"
                if other not in among or other == address:
                    continue
                mine, theirs = path.split(".")[0], ref.field.split(".")[0]
                points_out = ref.direction == "from" or (
                    ref.direction is None
                    and (
                        theirs in keys.key_fields(collections[other])
                        or mine not in keys.key_fields(collections[address])
                    )
                )
                found.append(
                    Link(address, mine, other, theirs)
                    if points_out
                    else Link(other, theirs, address, mine)
                )
    return list(dict.fromkeys(found))


def _in_period(coll: CollectionSpec, row: Row, start: date | None, end: date | None) -> bool:
    if not coll.events or not coll.date_field or row.get(coll.date_field) is None:
        return True
    day = date.fromisoformat(str(row[coll.date_field])[:10])
    return (start is None or day >= start) and (end is None or day <= end)


def _in_key_order(coll: CollectionSpec, rows: list[Row]) -> list[Row]:
    return sorted(rows, key=lambda r: keys.sort_key(coll, r))


def select(
    found: Mapping[str, list[Row]],
    collections: Mapping[str, CollectionSpec],
    found_links: list[Link],
    *,
    date_from: date | None,
    date_to: date | None,
) -> dict[str, list[Row]]:
    """The rows that go in, per collection, in a stable order whatever the store returned."""
    ordered = {a: _in_key_order(collections[a], rows) for a, rows in found.items()}
    keep = {
        a: [_in_period(collections[a], r, date_from, date_to) for r in rows]
        for a, rows in ordered.items()
    }
    changed = True
    while changed:  # until no included row points at a row left out
        changed = False
        for link in found_links:
            wanted = {
                same(r.get(link.child_field))
                for r, kept in zip(ordered[link.child], keep[link.child], strict=True)
                if kept
            } - {None}
            for i, row in enumerate(ordered[link.parent]):
                if not keep[link.parent][i] and same(row.get(link.parent_field)) in wanted:
                    keep[link.parent][i] = changed = True
    return {a: [r for r, k in zip(rows, keep[a], strict=True) if k] for a, rows in ordered.items()}


def _disclosable(specs: tuple[FieldSpec, ...], raw: Mapping[str, Any], financial: bool) -> Row:
    """A row with every secret replaced, nested fields included."""
    row: Row = {}
    for spec in specs:
        value = raw.get(spec.name)
        if value is not None and withheld_kind(spec, financial=financial):
            value = WITHHELD
        elif isinstance(value, dict):
            value = _nested(spec, value, financial)
        elif isinstance(value, list):
            value = [_nested(spec, v, financial) if isinstance(v, dict) else v for v in value]
        else:
            value = plain(value, spec.data_type)
        row[spec.name] = value
    return row


def _nested(spec: FieldSpec, value: Mapping[str, Any], financial: bool) -> Row:
    # Keys a dataset does not declare are judged by their names.
    declared = {sub.name for sub in spec.fields}
    extra = tuple(FieldSpec(str(k)) for k in value if k not in declared)
    return _disclosable(spec.fields + extra, value, financial)


def _withheld(coll: CollectionSpec, rows: list[Row], financial: bool) -> list[Withheld]:
    def held(path: str) -> bool:
        def walk(node: Any, parts: list[str]) -> bool:
            if isinstance(node, list):
                return any(walk(item, parts) for item in node)
            if not isinstance(node, dict):
                return False
            value = node.get(parts[0])
            return value == WITHHELD if len(parts) == 1 else walk(value, parts[1:])

        return any(walk(r, path.split(".")) for r in rows)

    return [
        Withheld(path, spec, kind)
        for path, spec in coll.walk()
        if (kind := withheld_kind(spec, financial=financial)) and held(path)
    ]


def assemble(
    found: Mapping[str, list[Row]],
    collections: Mapping[str, CollectionSpec],
    *,
    system_names: Mapping[str, str],
    category_names: Mapping[str, str],
    date_from: date | None,
    date_to: date | None,
) -> PackageContent:
    """Choose the rows, hold back the secrets and count what goes in."""
    found_links = links(collections, set(found))
    chosen = select(found, collections, found_links, date_from=date_from, date_to=date_to)
    content = PackageContent(
        links=found_links,
        category_names=dict(category_names),
        date_from=date_from,
        date_to=date_to,
    )
    for address in sorted(found):
        coll = collections[address]
        financial = is_financial(coll)
        rows = [_disclosable(coll.fields, raw, financial) for raw in chosen[address]]
        system = system_names.get(coll.dataset, coll.dataset)
        content.parts.append(Part(coll, system, rows, _withheld(coll, rows, financial)))
        # The one count of what the package holds: the request's summary and the console use it.
        content.counts[address] = len(rows)
    return content
