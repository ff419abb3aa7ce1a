"""A third party's connector plug-in: collections kept in one JSON file.

It is what a plug-in package ships: a ConnectorKind published under the `rightful.connectors`
entry point group. The tests install it into a temporary folder as a distribution of its own.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from rightful.connectors.base import Changed, FetchRequest, Row, RowChange, nonempty_matches
from rightful.connectors.registry import ConnectorKind
from rightful.core.errors import ConnectorError, InvalidInputError


class JSONFileConnector:
    """Collections as lists of objects in a JSON file."""

    def __init__(self, path: str) -> None:
        self.path = Path(path)

    def _load(self) -> dict[str, list[Row]]:
        try:
            return dict(json.loads(self.path.read_text()))
        except (OSError, ValueError) as exc:
            raise ConnectorError(f"Cannot connect: {type(exc).__name__}") from exc

    def test_connection(self) -> None:
        self._load()

    def fetch(self, request: FetchRequest) -> list[Row]:
        matches = nonempty_matches(request)
        rows = self._load().get(request.collection, [])
        return [
            {f: r.get(f) for f in request.fields}
            for r in rows
            if any(r.get(f) in values for f, values in matches)
        ]

    def apply(self, changes: Sequence[RowChange]) -> Changed:
        data = self._load()
        changed: Changed = {(c.collection, c.tag): 0 for c in changes}
        for change in changes:
            rows = data.get(change.collection, [])
            hits = [r for r in rows if all(r.get(f) == v for f, v in change.where)]
            for row in hits:
                if change.values is None:
                    rows.remove(row)
                else:
                    row.update(change.values)
            changed[(change.collection, change.tag)] += len(hits)
        self.path.write_text(json.dumps(data))
        return changed

    def close(self) -> None:
        pass


def _check(settings: Mapping[str, Any]) -> None:
    if not str(settings.get("path", "")).endswith(".json"):
        raise InvalidInputError("A jsonfile connection's path must end in .json.")


KIND = ConnectorKind(
    name="jsonfile",
    connect=lambda settings: JSONFileConnector(str(settings["path"])),
    check=_check,
    required=("path",),
    description="Collections in a JSON file.",
)
