"""Checks on data-map files, each error naming file, dataset, collection and field."""

from __future__ import annotations

import re
from typing import Any

from pydantic import ValidationError

from rightful.inventory.graph import collections_by_address, edges, traversal_levels
from rightful.inventory.specs import CollectionSpec, DatasetSpec

Problem = dict[str, str]

PARTNER_ROLES = ("affiliate", "service_provider", "contractor", "third_party")


def problem(
    message: str, *, file: str = "", dataset: str = "", collection: str = "", field: str = ""
) -> Problem:
    """One error, located as precisely as we can."""
    where = {"file": file, "dataset": dataset, "collection": collection, "field": field}
    return {**{k: v for k, v in where.items() if v}, "message": message}


def describe(p: Problem) -> str:
    """A one-line rendering: `file: dataset X, collection Y, field Z: message`."""
    parts = [f"{k} {p[k]}" for k in ("dataset", "collection", "field") if p.get(k)]
    place = ", ".join(parts)
    prefix = f"{p['file']}: " if p.get("file") else ""
    return f"{prefix}{place + ': ' if place else ''}{p['message']}"


def check_format(doc: Any, *, file: str) -> list[Problem]:
    """Validate one dataset against the fideslang model Fides itself uses."""
    if not isinstance(doc, dict):
        return [problem("each dataset must be a mapping with fides_key and collections", file=file)]
    from fideslang.models import Dataset as FidesDataset  # heavy: loaded only to validate

    try:
        FidesDataset(**doc)
    except ValidationError as exc:
        return [_locate(err, doc, file) for err in exc.errors()]
    return check_extension(doc, file=file)


def _locate(err: Any, doc: dict[str, Any], file: str) -> Problem:
    loc = list(err.get("loc", ()))
    dataset = str(doc.get("fides_key", ""))
    collection = field = ""
    node: Any = doc
    for step, nxt in zip(loc, [*loc[1:], None], strict=False):
        if isinstance(node, dict):
            node = node.get(step) if isinstance(step, str) else None
        elif isinstance(node, list) and isinstance(step, int) and step < len(node):
            node = node[step]
            name = node.get("name") if isinstance(node, dict) else None
            if name and not collection and nxt != "name":
                collection = str(name)
            elif name and collection:
                field = f"{field}.{name}" if field else str(name)
    where = ".".join(str(x) for x in loc)
    return problem(
        f"{err.get('msg', 'invalid')} (at {where})",
        file=file,
        dataset=dataset,
        collection=collection,
        field=field,
    )


def check_graph(datasets: list[DatasetSpec], *, categories: set[str]) -> list[Problem]:
    """Unknown categories, dangling references, unreachable collections, missing identities."""
    problems: list[Problem] = []
    colls = collections_by_address(datasets)
    for ds in datasets:
        for coll in ds.collections:
            for path, spec in coll.walk():
                at = {
                    "file": ds.source_file,
                    "dataset": ds.key,
                    "collection": coll.name,
                    "field": path,
                }
                problems += [
                    problem(f"unknown data category '{cat}'", **at)
                    for cat in spec.data_categories
                    if cat not in categories
                ]
                for ref in spec.references:
                    target = colls.get(f"{ref.dataset}:{ref.collection}")
                    paths = {p for p, _ in target.walk()} if target else set()
                    if ref.field not in paths:
                        problems.append(
                            problem(
                                f"reference to {ref.dataset}.{ref.collection}.{ref.field} points "
                                "at nothing in the data map",
                                **at,
                            )
                        )
                    if ref.direction not in (None, "from", "to"):
                        problems.append(
                            problem(
                                f"reference direction must be 'from' or 'to', "
                                f"not '{ref.direction}'",
                                **at,
                            )
                        )
            problems += [
                problem(message, file=ds.source_file, dataset=ds.key, collection=coll.name)
                for message in _extension_problems(coll, colls)
            ]
    if not any(spec.identity for c in colls.values() for _, spec in c.walk()):
        problems.append(
            problem(
                "no field anywhere is marked as an identity "
                "(fides_meta.identity), so no request can find anyone"
            )
        )
        return problems
    problems += _unreachable(datasets)
    return problems


COLLECTION_KEYS = ("date_field", "events", "label", "record", "within", "position")
FIELD_KEYS = ("label", "hidden", "currency", "values", "stored_as")
# How a field's value is kept, where its name does not say (see inventory/lint.py).
STORED_AS = ("hashed", "tokenised", "truncated", "encrypted", "plain")


def _extension_problems(coll: CollectionSpec, colls: dict[str, CollectionSpec]) -> list[str]:
    """What is wrong with a collection's `rightful:` keys (see docs/inventory.md)."""
    out = []
    if coll.date_field and coll.field(coll.date_field) is None:
        out.append(f"date_field '{coll.date_field}' is not a field")
    if coll.events and not coll.date_field:
        out.append("events: true needs a date_field saying when each row happened")
    out += [
        f"record names '{{{name}}}', which is not a field"
        for name in re.findall(r"\{(\w+)\}", coll.record)
        if coll.field(name) is None
    ]
    parent = colls.get(coll.within or "")
    if coll.within and (parent is None or not _linked(coll, parent)):
        out.append(f"within '{coll.within}' is not a collection this one references")
    return out


def _linked(one: CollectionSpec, other: CollectionSpec) -> bool:
    """True when a field of either collection references the other."""
    return any(
        f"{ref.dataset}:{ref.collection}" == b.address
        for a, b in ((one, other), (other, one))
        for _, spec in a.walk()
        for ref in spec.references
    )


def check_extension(doc: dict[str, Any], *, file: str) -> list[Problem]:
    """Rightful's own `rightful:` keys on collections and fields: known names, right shapes."""
    out = []
    for coll in doc.get("collections") or []:
        if not isinstance(coll, dict):
            continue
        at = {
            "file": file,
            "dataset": str(doc.get("fides_key", "")),
            "collection": str(coll.get("name", "")),
        }
        out += [problem(m, **at) for m in _shape(coll.get("rightful"), COLLECTION_KEYS)]
        for fld in coll.get("fields") or []:
            if isinstance(fld, dict):
                where = {**at, "field": str(fld.get("name", ""))}
                out += [problem(m, **where) for m in _shape(fld.get("rightful"), FIELD_KEYS)]
    return out


def _shape(extension: Any, known: tuple[str, ...]) -> list[str]:
    if extension is None:
        return []
    if not isinstance(extension, dict):
        return ["rightful: must be a mapping of keys"]
    out = [
        f"rightful: unknown key '{k}' (known: {', '.join(known)})"
        for k in extension
        if k not in known
    ]
    if "values" in extension and not isinstance(extension["values"], dict):
        out.append("rightful: values must map stored values to words")
    if "position" in extension and not isinstance(extension["position"], int):
        out.append("rightful: position must be a whole number")
    if "stored_as" in extension and extension["stored_as"] not in STORED_AS:
        out.append(f"rightful: stored_as must be one of {', '.join(STORED_AS)}")
    return out


def _unreachable(datasets: list[DatasetSpec]) -> list[Problem]:
    levels = traversal_levels(datasets)
    dangling = {e.target for e in edges(datasets)} | {e.source for e in edges(datasets)}
    out = []
    for ds in datasets:
        for coll in ds.collections:
            personal = any(c.startswith("user") for _, f in coll.walk() for c in f.data_categories)
            if coll.skip_processing or coll.address in levels or not personal:
                continue
            hint = "" if coll.address in dangling else " and has no references"
            out.append(
                problem(
                    "holds personal data but cannot be reached from any identity field"
                    + hint
                    + "; add a reference or set fides_meta.skip_processing",
                    file=ds.source_file,
                    dataset=ds.key,
                    collection=coll.name,
                )
            )
    return out
