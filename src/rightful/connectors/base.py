"""What every connector does, over plain values (never ORM rows)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

Row = dict[str, Any]


@dataclass(frozen=True)
class FetchRequest:
    """Read `fields` of rows in `collection` where any (field IN values) pair matches."""

    collection: str
    fields: tuple[str, ...]
    match: tuple[tuple[str, tuple[Any, ...]], ...]


class Connector(Protocol):
    """A data store Rightful can read from (and, in later work, erase in)."""

    def test_connection(self) -> None:
        """Raise ConnectorError with a readable reason when the store cannot be used."""

    def fetch(self, request: FetchRequest) -> list[Row]:
        """Rows matching the request; an empty match returns nothing."""

    def close(self) -> None:
        """Release connections."""


def nonempty_matches(request: FetchRequest) -> list[tuple[str, Sequence[Any]]]:
    """The match pairs that carry values; a pair without values can match nothing."""
    return [(f, v) for f, v in request.match if v]
