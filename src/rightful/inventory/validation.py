"""Checks on data-map files, each error naming file, dataset, collection and field."""

from __future__ import annotations

from typing import Any

from fideslang.models import Dataset as FidesDataset
from pydantic import ValidationError

from rightful.inventory.graph import collections_by_address, edges, traversal_levels
from rightful.inventory.specs import DatasetSpec

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
    try:
        FidesDataset(**doc)
    except ValidationError as exc:
        return [_locate(err, doc, file) for err in exc.errors()]
    return []


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
            if coll.date_field and coll.field(coll.date_field) is None:
                problems.append(
                    problem(
                        f"date_field '{coll.date_field}' is not a field",
                        file=ds.source_file,
                        dataset=ds.key,
                        collection=coll.name,
                    )
                )
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
