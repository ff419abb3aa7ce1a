"""The one place that decides how a collection's rows are told apart, to change exactly them.

A collection's key is its declared primary key (one field or several). A collection without
one (an event log, a join table) is still changed row by row: by the fields that found the rows
(the identity or reference values), plus, for an update, the current values of the fields being
changed, so two rows found by the same value but holding different values are each changed to
their own new values, and applying the change again finds nothing left to change.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from rightful.connectors.base import Where
from rightful.inventory.specs import CollectionSpec


def key_fields(coll: CollectionSpec) -> tuple[str, ...]:
    """The declared primary key's fields, in dataset order; empty when none is declared."""
    return tuple(f.name for f in coll.fields if f.primary_key)


def locating_fields(coll: CollectionSpec, found_by: Iterable[str]) -> tuple[str, ...]:
    """Fields that can single out this collection's rows: the key, else the top-level fields
    rows were found by (nested fields cannot be matched by a store's WHERE)."""
    keys = key_fields(coll)
    if keys:
        return keys
    top = {f.name for f in coll.fields}
    return tuple(dict.fromkeys(f for f in found_by if f in top))


def locate(
    coll: CollectionSpec,
    row: Mapping[str, Any],
    *,
    found_by: Sequence[str],
    changing: Iterable[str] = (),
) -> Where | None:
    """The `where` that finds this row again, or None when nothing can.

    With a key, the key's values. Without one, the first field the row was found by that holds
    a value, plus the current values of the `changing` fields.
    """
    keys = key_fields(coll)
    if keys:
        if any(row.get(k) is None for k in keys):
            return None
        return tuple((k, row[k]) for k in keys)
    by = next((f for f in locating_fields(coll, found_by) if row.get(f) is not None), None)
    if by is None:
        return None
    extra = tuple((f, row.get(f)) for f in dict.fromkeys(changing) if f != by)
    return ((by, row[by]), *extra)


def sort_key(coll: CollectionSpec, row: Mapping[str, Any]) -> tuple[tuple[int, float, str], ...]:
    """Rows in a stable order whatever order a store returned them: by key, else by all fields."""
    names = key_fields(coll) or tuple(f.name for f in coll.fields)
    return tuple(_orderable(row.get(n)) for n in names)


def _orderable(value: Any) -> tuple[int, float, str]:
    if value is None:
        return (2, 0.0, "")
    if isinstance(value, int | float):
        return (0, float(value), "")
    return (1, 0.0, str(value))
