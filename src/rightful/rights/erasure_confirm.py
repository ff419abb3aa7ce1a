"""Which planned erasure changes a store shows in effect, read back from the store itself.

Used when a store reports fewer rows changed than planned: a worker that died after the store
committed and before Rightful recorded it, or a row two people in one batch shared. The record
then counts what the store holds now, not what the plan meant to do.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from rightful.connectors.base import Changed, Connector, FetchRequest, Row, RowChange


def _comparable(value: Any) -> Any:
    """Values as both a store and a stored plan can give them: dates, numbers, text alike."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, datetime):
        return value.replace(tzinfo=None, microsecond=0)
    if isinstance(value, date):
        return value
    text = str(value)
    try:
        return datetime.fromisoformat(text).replace(tzinfo=None, microsecond=0)
    except ValueError:
        pass
    try:
        return Decimal(text).normalize()
    except InvalidOperation:
        return text


def _at(row: Row, name: str) -> Any:
    """The row's value for a field, or for a member of an object by its dotted path."""
    if name in row or "." not in name:
        return row.get(name)
    node: Any = row
    for part in name.split("."):
        node = node.get(part) if isinstance(node, dict) else None
    return node


def _matches(row: Row, pairs: Iterable[tuple[str, Any]]) -> bool:
    return all(_comparable(_at(row, f)) == _comparable(v) for f, v in pairs)


def _done(change: RowChange, rows: list[Row], keyed: bool) -> bool:
    hits = [r for r in rows if _matches(r, change.where)]
    if change.values is None or not keyed:
        # A deleted row, or a keyless row whose changed values no longer match, is gone.
        return not hits
    return bool(hits) and all(_matches(r, change.values.items()) for r in hits)


def in_effect(connector: Connector, changes: list[RowChange], keyed: set[str]) -> Changed:
    """Per (collection, tag), how many of these changes the store shows done; one read per
    collection. `keyed` names the collections whose `where` is a primary key."""
    out: Changed = {}
    for collection in dict.fromkeys(c.collection for c in changes):
        mine = [c for c in changes if c.collection == collection]
        names = {f for c in mine for f, _ in c.where}
        names |= {f.split(".")[0] for c in mine for f in c.values or {}}  # an object's members
        # Each change's first pair (its key, or the value that found it) reads its rows back.
        wanted: dict[str, dict[Any, None]] = {}
        for c in mine:
            wanted.setdefault(c.where[0][0], {})[c.where[0][1]] = None
        match = tuple((f, tuple(values)) for f, values in wanted.items())
        rows = connector.fetch(FetchRequest(collection, tuple(sorted(names)), match))
        for change in mine:
            key = (collection, change.tag)
            out[key] = out.get(key, 0) + _done(change, rows, collection in keyed)
    return out
