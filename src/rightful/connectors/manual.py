"""The `manual` connector kind: a system with no API (a paper archive, a spreadsheet on a shared
drive, a vendor reached only by its web console). Rightful never calls it; each request that
reaches one gives the system's owner a manual task instead (rights/tasks.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from rightful.connectors.base import Changed, FetchRequest, Row, RowChange
from rightful.connectors.registry import ConnectorKind
from rightful.core.errors import ConnectorError

__all__ = ["KIND", "ManualSystem"]


class ManualSystem:
    """Stands for a system people handle: every call says so (execution never makes one)."""

    def __init__(self, settings: Mapping[str, Any]) -> None:
        self.settings = dict(settings)

    def _refuse(self) -> ConnectorError:
        return ConnectorError("This system is handled by hand: its owner gets manual tasks.")

    def test_connection(self) -> None:
        """Nothing to reach."""

    def fetch(self, request: FetchRequest) -> list[Row]:
        """Refused: people search this system."""
        raise self._refuse()

    def apply(self, changes: Sequence[RowChange]) -> Changed:
        """Refused: people erase in this system."""
        raise self._refuse()

    def close(self) -> None:
        """Nothing to release."""


KIND = ConnectorKind(
    name="manual",
    connect=ManualSystem,
    description="A system with no API: its owner searches and erases by hand (manual tasks).",
    by_hand=True,
)
