"""Plan a request: which collections to read, in which order, with which inputs."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from rightful.connectors.base import Connector, FetchRequest, Row, nonempty_matches
from rightful.inventory.graph import Edge, edges, identity_fields, traversal_levels
from rightful.inventory.specs import CollectionSpec, DatasetSpec


@dataclass(frozen=True)
class Step:
    """Read one collection: by identity fields and by values found upstream."""

    address: str
    system: str
    collection: CollectionSpec
    level: int
    seeds: tuple[tuple[str, str], ...]
    inputs: tuple[Edge, ...]

    @property
    def found_by(self) -> list[str]:
        """The fields this step's rows are found by: its identity fields, then its references."""
        return list(
            dict.fromkeys([f for f, _ in self.seeds] + [e.target_field for e in self.inputs])
        )


def _reaches(graph: Mapping[str, set[str]], start: str, goal: str) -> bool:
    seen, stack = {start}, [start]
    while stack:
        node = stack.pop()
        if node == goal:
            return True
        for nxt in graph.get(node, ()):
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return False


def _acyclic_edges(all_edges: list[Edge], levels: Mapping[str, int]) -> list[Edge]:
    """Keep every edge between reached collections that does not close a cycle, nearest first.

    A two-way reference is then read in the direction the traversal meets it first, while a
    collection found both by an identity and by a reference (support tickets by e-mail and by
    customer id) still waits for the collection it references.
    """
    kept: list[Edge] = []
    graph: dict[str, set[str]] = {}
    candidates = [
        e for e in all_edges if e.source in levels and e.target in levels and e.source != e.target
    ]
    for edge in sorted(
        candidates, key=lambda e: (levels[e.source], levels[e.target], e.source, e.target)
    ):
        if edge.target in graph.get(edge.source, set()) or not _reaches(
            graph, edge.target, edge.source
        ):
            graph.setdefault(edge.source, set()).add(edge.target)
            kept.append(edge)
    return kept


def _order(levels: Mapping[str, int], kept: list[Edge]) -> list[str]:
    waiting = {a: {e.source for e in kept if e.target == a} for a in levels}
    order: list[str] = []
    while waiting:
        ready = sorted((a for a, deps in waiting.items() if not deps), key=lambda a: (levels[a], a))
        order.append(ready[0])
        del waiting[ready[0]]
        for deps in waiting.values():
            deps.discard(ready[0])
    return order


_PlanKey = tuple[int, tuple[tuple[str, str], ...], tuple[str, ...], int | None]
# Plans of the data maps this process holds (`inventory.revision` keeps one per store and
# revision): each batch of deletions, each access request and each verification planned the
# same map again. Keyed by the datasets' tuple itself (kept in the entry, compared with `is`),
# so a new revision's map is planned afresh; the specs and steps are frozen.
_plans: dict[_PlanKey, tuple[tuple[DatasetSpec, ...], tuple[Step, ...]]] = {}
_PLANS_KEPT = 16


def build_plan(
    datasets: Iterable[DatasetSpec],
    *,
    system_of: Mapping[str, str],
    identity_types: Iterable[str],
    max_level: int | None = None,
) -> list[Step]:
    """Steps in dependency order from the identities the request carries (planned once for a
    data map's tuple of datasets, the same list's steps after)."""
    if not isinstance(datasets, tuple):  # a list may change: planned each time
        return _build_plan(datasets, system_of, set(identity_types), max_level)
    kinds = set(identity_types)
    key = (id(datasets), tuple(sorted(system_of.items())), tuple(sorted(kinds)), max_level)
    held = _plans.get(key)
    if held is not None and held[0] is datasets:
        return list(held[1])
    steps = _build_plan(datasets, system_of, kinds, max_level)
    if len(_plans) >= _PLANS_KEPT:
        _plans.clear()
    _plans[key] = (datasets, tuple(steps))
    return steps


def _build_plan(
    datasets: Iterable[DatasetSpec],
    system_of: Mapping[str, str],
    kinds: set[str],
    max_level: int | None,
) -> list[Step]:
    datasets = [d for d in datasets if d.key in system_of]
    levels = traversal_levels(datasets, kinds)
    if max_level is not None:
        levels = {a: lvl for a, lvl in levels.items() if lvl <= max_level}
    colls = {c.address: c for d in datasets for c in d.collections}
    kept = _acyclic_edges(edges(datasets), levels)
    steps = []
    for address in _order(levels, kept):
        coll = colls[address]
        seeds = tuple((f, k) for f, k in identity_fields(coll) if k in kinds)
        inputs = tuple(e for e in kept if e.target == address)
        steps.append(Step(address, system_of[coll.dataset], coll, levels[address], seeds, inputs))
    return steps


_CASTS: dict[str, Callable[[Any], Any]] = {"integer": int, "string": str, "float": float}


def _cast(values: Iterable[Any], data_type: str | None) -> tuple[Any, ...]:
    cast = _CASTS.get(data_type or "")
    out = []
    for v in values:
        if v is None:
            continue
        try:
            out.append(cast(v) if cast else v)
        except (TypeError, ValueError):
            continue  # a value of the wrong type cannot match this field
    return tuple(dict.fromkeys(out))


Identities = Mapping[str, str | Sequence[str]]


def fetch_request(
    step: Step, identities: Identities, found: Mapping[str, list[Row]]
) -> FetchRequest:
    """The read for one step, given identities (one value or several people's) and rows found
    by earlier steps."""
    match: dict[str, list[Any]] = {}
    for field, kind in step.seeds:
        given = identities.get(kind)
        if given:
            match.setdefault(field, []).extend([given] if isinstance(given, str) else given)
    for edge in step.inputs:
        top = edge.source_field.split(".")[0]
        match.setdefault(edge.target_field, []).extend(
            r.get(top) for r in found.get(edge.source, [])
        )
    typed = []
    for field, values in match.items():
        spec = step.collection.field(field.split(".")[0])
        typed.append((field, _cast(values, spec.data_type if spec else None)))
    names = tuple(dict.fromkeys(f.name for f in step.collection.fields))
    return FetchRequest(collection=step.collection.name, fields=names, match=tuple(typed))


class Split:
    """Rows read for many people at once, split per person (`share`): each person's rows are
    looked up by value in an index built once per collection and field, not found by scanning
    every row for every person; a row keeps the place the store gave it."""

    def __init__(self, steps: list[Step], found: Mapping[str, list[Row]]) -> None:
        self.steps, self.found = steps, found
        self._index: dict[tuple[str, str], dict[Any, list[int]]] = {}

    def _by_value(self, address: str, field: str) -> dict[Any, list[int]]:
        key = (address, field)
        if key not in self._index:
            index: dict[Any, list[int]] = {}
            for position, row in enumerate(self.found.get(address, [])):
                try:
                    index.setdefault(row.get(field), []).append(position)
                except TypeError:  # a list or a mapping: no asked value can equal it
                    continue
            self._index[key] = index
        return self._index[key]

    def share(self, identities: Mapping[str, str]) -> dict[str, list[Row]]:
        """The rows matching `identities` or the values of this person's own rows upstream."""
        mine: dict[str, list[Row]] = {}
        for step in self.steps:
            rows, hits = self.found.get(step.address, []), set[int]()
            for field, values in nonempty_matches(fetch_request(step, identities, mine)):
                index = self._by_value(step.address, field)
                for value in values:
                    hits.update(index.get(value, ()))
            mine[step.address] = [rows[i] for i in sorted(hits)]
        return mine


def traverse(
    steps: list[Step], identities: Identities, connector_for: Callable[[str], Connector]
) -> dict[str, list[Row]]:
    """Run every step in order, without recording (used for identity matching)."""
    found: dict[str, list[Row]] = {}
    for step in steps:
        found[step.address] = connector_for(step.system).fetch(
            fetch_request(step, identities, found)
        )
    return found
