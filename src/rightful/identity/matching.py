"""Count how many data points a consumer gave match what the company holds."""

from __future__ import annotations

from collections.abc import Mapping

from rightful.connectors.base import Row
from rightful.core.errors import InvalidInputError
from rightful.identity.points import DataPoint
from rightful.inventory.specs import CollectionSpec

# (collection's id, point, its categories) -> (the collection, its fields for the point). The
# data map's collections live as long as its revision is current (inventory/revision.py), so
# each verification walked the same ones again; the entry holds the collection, so its id is
# not reused while cached, and `is` checks it is that one.
_FIELDS: dict[tuple[int, str, tuple[str, ...]], tuple[CollectionSpec, list[tuple[str, str]]]] = {}


def _fields_for(point: DataPoint, coll: CollectionSpec) -> list[tuple[str, str]]:
    key = (id(coll), point.key, point.categories)
    known = _FIELDS.get(key)
    if known is not None and known[0] is coll:
        return known[1]
    found = [
        (path, cat)
        for path, spec in coll.walk()
        for cat in spec.data_categories
        if any(cat == c or cat.startswith(c + ".") for c in point.categories)
    ]
    if len(_FIELDS) > 20_000:  # old revisions' collections: let them go
        _FIELDS.clear()
    _FIELDS[key] = (coll, found)
    return found


def _values(point: DataPoint, coll: CollectionSpec, row: Row) -> set[str]:
    fields = _fields_for(point, coll)
    raw = [(cat, row.get(path.split(".")[0])) for path, cat in fields]
    if point.key == "name":
        # First and last name often sit in separate columns: join them in order.
        parts = sorted((0 if cat.endswith("first") else 1, str(v)) for cat, v in raw if v)
        return {point.normalise(" ".join(p for _, p in parts))} if parts else set()
    found = set()
    for _, value in raw:
        if value in (None, ""):
            continue
        try:
            found.add(point.normalise(str(value)))
        except InvalidInputError:
            continue  # badly stored data can never match
    return found


def holding(points: list[DataPoint], collections: Mapping[str, CollectionSpec]) -> set[str]:
    """Addresses of the collections with a field any of `points` is matched against."""
    return {
        address
        for address, coll in collections.items()
        if any(_fields_for(point, coll) for point in points)
    }


def matched_points(
    provided: Mapping[str, str],
    records: Mapping[str, list[Row]],
    collections: Mapping[str, CollectionSpec],
    points: tuple[DataPoint, ...],
) -> set[str]:
    """Keys of the provided data points found in any record."""
    by_key = {p.key: p for p in points}
    matched: set[str] = set()
    for key, given in provided.items():
        point = by_key.get(key)
        if point is None or not given:
            continue
        value = point.normalise(given)
        for address, rows in records.items():
            coll = collections[address]
            if any(value in _values(point, coll, row) for row in rows):
                matched.add(key)
                break
    return matched
