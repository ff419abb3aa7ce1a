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


@dataclass(frozen=True)
class RowChange:
    """Delete one row (`values` None) or set some of its fields, found by its key."""

    collection: str
    key_field: str
    key: Any
    values: dict[str, Any] | None = None


class Connector(Protocol):
    """A data store Rightful can read from (and, in later work, erase in)."""

    def test_connection(self) -> None:
        """Raise ConnectorError with a readable reason when the store cannot be used."""

    def fetch(self, request: FetchRequest) -> list[Row]:
        """Rows matching the request; an empty match returns nothing."""

    def apply(self, changes: Sequence[RowChange]) -> int:
        """Make all changes in one transaction, dependents first; returns rows touched.

        Deleting a row that is gone, or setting a value it already has, changes nothing, so
        applying the same changes twice ends in the same state.
        """

    def close(self) -> None:
        """Release connections."""


def nonempty_matches(request: FetchRequest) -> list[tuple[str, Sequence[Any]]]:
    """The match pairs that carry values; a pair without values can match nothing."""
    return [(f, v) for f, v in request.match if v]
