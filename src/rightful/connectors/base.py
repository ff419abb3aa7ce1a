"""What every connector does, over plain values (never ORM rows)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

Row = dict[str, Any]


@dataclass(frozen=True)
class FetchRequest:
    """Read `fields` of rows in `collection` where any (field IN values) pair matches.

    With `older_than` (field, moment) the rows are instead those dated before the moment, for
    retention schedules; `match` may then be empty.
    """

    collection: str
    fields: tuple[str, ...]
    match: tuple[tuple[str, tuple[Any, ...]], ...]
    older_than: tuple[str, datetime] | None = None


Where = tuple[tuple[str, Any], ...]


@dataclass(frozen=True)
class RowChange:
    """Delete the rows (`values` None) or set some of their fields, found by `where`.

    `where` is a conjunction of (field, value) equalities, a None value meaning IS NULL: a
    collection's primary key where it has one, else the fields that found the rows (see
    `inventory.keys.locate`). `tag` groups changes whose counts are wanted apart (one request's
    share of a batch); stores report rows changed per (collection, tag).
    """

    collection: str
    where: Where
    values: dict[str, Any] | None = None
    tag: str = ""

    @classmethod
    def by_key(
        cls, collection: str, key_field: str, key: Any, values: dict[str, Any] | None = None
    ) -> RowChange:
        """A change to the one row whose `key_field` is `key`."""
        return cls(collection, ((key_field, key),), values)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready form, for plans stored before they are applied."""
        return {
            "collection": self.collection,
            "where": [list(pair) for pair in self.where],
            "values": self.values,
            "tag": self.tag,
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> RowChange:
        """Back from `to_json` (and from plans stored by key before 0.2: key_field and key)."""
        if "where" not in raw:
            return cls.by_key(raw["collection"], raw["key_field"], raw["key"], raw.get("values"))
        return cls(
            raw["collection"],
            tuple((str(f), v) for f, v in raw["where"]),
            raw.get("values"),
            str(raw.get("tag") or ""),
        )


# Rows a store reported changed, per (collection, tag).
Changed = dict[tuple[str, str], int]


class Connector(Protocol):
    """A data store Rightful can read from (and, in later work, erase in)."""

    def test_connection(self) -> None:
        """Raise ConnectorError with a readable reason when the store cannot be used."""

    def fetch(self, request: FetchRequest) -> list[Row]:
        """Rows matching the request; an empty match returns nothing."""

    def apply(self, changes: Sequence[RowChange]) -> Changed:
        """Make all changes in one transaction, dependents first; returns the rows the store
        reported changed per (collection, tag), each pair present even when nothing changed.

        Deleting a row that is gone, or setting a value it already has, changes nothing to the
        data, so applying the same changes twice ends in the same state.
        """

    def close(self) -> None:
        """Release connections."""


def change_refusal(connector: Connector, collection: str, *, masking: bool) -> str | None:
    """Why `connector` cannot delete (or, `masking`, update) rows of `collection`, or None.

    A connector that knows its limits (an API with no delete call for a collection) says so
    with a `refuses(collection, masking=...)` method; erasure then routes the collection to a
    manual task instead of failing or reporting it done. Connectors without it can change
    every collection they read."""
    refuses = getattr(connector, "refuses", None)
    if refuses is None:
        return None
    reason = refuses(collection, masking=masking)
    return str(reason) if reason else None


def sets_members(connector: Connector) -> bool:
    """Whether `connector` sets an object field's members one by one (an API whose update
    takes `{"properties": {"email": ...}}` and leaves the members it is not given alone), so
    masking an object changes its members, named by dotted paths (`properties.email`). A
    connector says so with a true `sets_members` attribute; others take an object as one
    value (a SQL store's JSON column)."""
    return bool(getattr(connector, "sets_members", False))


def transactional(connector: Connector) -> bool:
    """Whether `connector` applies a batch of changes all or nothing (a SQL transaction). One
    that cannot (an HTTP API: each call stands alone) says so with a false `transactional`
    attribute, and erasure then records each change as it is made, so a crash between two
    calls does not send the calls already made again."""
    return bool(getattr(connector, "transactional", True))


def total(changed: Changed) -> int:
    """All rows changed, whatever their collection or tag."""
    return sum(changed.values())


def nonempty_matches(request: FetchRequest) -> list[tuple[str, Sequence[Any]]]:
    """The match pairs that carry values; a pair without values can match nothing."""
    return [(f, v) for f, v in request.match if v]
