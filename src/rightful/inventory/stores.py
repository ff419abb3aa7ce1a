"""The company's data stores as one run sees them: a connector per system, released together."""

from __future__ import annotations

from collections.abc import Mapping

from rightful.connectors.base import Connector
from rightful.connectors.registry import connector_for
from rightful.core.config import Settings
from rightful.inventory.revision import SystemView
from rightful.inventory.service import connection_settings
from rightful.security.vault import Vault


class Connectors:
    """The connectors of one run, one per system, released together."""

    def __init__(self, settings: Settings, systems: Mapping[str, SystemView]) -> None:
        self._vault = Vault(settings, "connections")
        self._systems = systems
        self._open: dict[str, Connector] = {}

    def __call__(self, key: str) -> Connector:
        """The connector of a system (KeyError for an unknown system)."""
        if key not in self._open:
            system = self._systems[key]
            settings = connection_settings(self._vault, system)
            self._open[key] = connector_for(key, system.connection_type, settings)
        return self._open[key]

    def __enter__(self) -> Connectors:
        return self

    def __exit__(self, *_: object) -> None:
        for connector in self._open.values():
            connector.close()
        self._open.clear()
