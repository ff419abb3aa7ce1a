"""The graph of collections linked by references, as traversal from identities sees it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from rightful.inventory.specs import CollectionSpec, DatasetSpec


@dataclass(frozen=True)
class Edge:
    """Values of `source_field` in `source` find rows of `target` by `target_field`."""

    source: str
    source_field: str
    target: str
    target_field: str


def collections_by_address(datasets: Iterable[DatasetSpec]) -> dict[str, CollectionSpec]:
    """Every collection keyed by `dataset:collection`."""
    return {c.address: c for d in datasets for c in d.collections}


def edges(datasets: Iterable[DatasetSpec]) -> list[Edge]:
    """All directed edges; a reference without direction goes both ways."""
    found: list[Edge] = []
    for dataset in datasets:
        for coll in dataset.collections:
            for path, spec in coll.walk():
                for ref in spec.references:
                    other = f"{ref.dataset}:{ref.collection}"
                    if ref.direction in (None, "from"):
                        found.append(Edge(other, ref.field, coll.address, path))
                    if ref.direction in (None, "to"):
                        found.append(Edge(coll.address, path, other, ref.field))
    return found


def identity_fields(coll: CollectionSpec) -> list[tuple[str, str]]:
    """(field path, identity type) for each identity field of a collection."""
    return [(path, spec.identity) for path, spec in coll.walk() if spec.identity]


def traversal_levels(
    datasets: Iterable[DatasetSpec], identity_types: Iterable[str] | None = None
) -> dict[str, int]:
    """Breadth-first level of each collection reachable from identity fields.

    `identity_types` limits the starting points to the identities a request carries;
    None means any identity (used to check that every collection can be reached).
    """
    datasets = list(datasets)
    wanted = set(identity_types) if identity_types is not None else None
    colls = collections_by_address(datasets)
    levels = {
        addr: 0
        for addr, coll in colls.items()
        if not coll.skip_processing
        and any(wanted is None or kind in wanted for _, kind in identity_fields(coll))
    }
    outgoing: dict[str, list[Edge]] = {}
    for edge in edges(datasets):
        outgoing.setdefault(edge.source, []).append(edge)
    frontier = list(levels)
    while frontier:
        nxt: list[str] = []
        for addr in frontier:
            for edge in outgoing.get(addr, []):
                target = colls.get(edge.target)
                if target is None or target.skip_processing or edge.target in levels:
                    continue
                levels[edge.target] = levels[addr] + 1
                nxt.append(edge.target)
        frontier = nxt
    return levels
