"""An in-memory connector for tests of code that uses connectors."""

from __future__ import annotations

from collections.abc import Sequence

from rightful.connectors.base import Changed, FetchRequest, Row, RowChange, nonempty_matches
from rightful.core.errors import ConnectorError


class FakeConnector:
    """Holds tables as lists of dicts; behaves like a SQL connector for reads."""

    def __init__(
        self, tables: dict[str, list[Row]] | None = None, *, reachable: bool = True
    ) -> None:
        self.tables = tables or {}
        self.reachable = reachable
        self.fetches: list[FetchRequest] = []

    def test_connection(self) -> None:
        """Fail when built unreachable."""
        if not self.reachable:
            raise ConnectorError("Cannot connect: fake store is unreachable")

    def fetch(self, request: FetchRequest) -> list[Row]:
        """Rows whose match field value is among the values."""
        self.test_connection()
        self.fetches.append(request)
        matches = nonempty_matches(request)
        if not matches and request.older_than is None:
            return []

        def wanted(row: Row) -> bool:
            found = not matches or any(row.get(f) in values for f, values in matches)
            if request.older_than:
                field, moment = request.older_than
                found = found and row.get(field) is not None and row[field] < moment
            return found

        return [
            {f: row.get(f) for f in request.fields}
            for row in self.tables.get(request.collection, [])
            if wanted(row)
        ]

    def apply(self, changes: Sequence[RowChange]) -> Changed:
        """Delete or update rows in the in-memory tables; counts as a SQL store does."""
        self.test_connection()
        changed: Changed = {(c.collection, c.tag): 0 for c in changes}
        for change in changes:
            rows = self.tables.get(change.collection, [])
            hits = [r for r in rows if all(r.get(f) == v for f, v in change.where)]
            for row in hits:
                if change.values is None:
                    rows.remove(row)
                else:
                    row.update(change.values)
            changed[(change.collection, change.tag)] += len(hits)
        return changed

    def close(self) -> None:
        """Nothing to release."""
