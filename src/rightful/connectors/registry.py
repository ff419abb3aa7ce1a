"""The one place that knows which connector serves which kind of system."""

from __future__ import annotations

from collections.abc import Callable

from rightful.connectors.base import Connector
from rightful.connectors.sql import SQLConnector
from rightful.core.errors import ConnectorError

_FACTORIES: dict[str, Callable[[str], Connector]] = {"sql": SQLConnector}
_OVERRIDES: dict[str, Connector] = {}


def register(kind: str, factory: Callable[[str], Connector]) -> None:
    """Add a connector kind (e.g. an HTTP API connector)."""
    _FACTORIES[kind] = factory


def override(system_key: str, connector: Connector | None) -> None:
    """Serve one system from a given connector (used by tests with the fake)."""
    if connector is None:
        _OVERRIDES.pop(system_key, None)
    else:
        _OVERRIDES[system_key] = connector


def connector_for(system_key: str, kind: str | None, url: str | None) -> Connector:
    """A connector for a system, or ConnectorError saying what is missing."""
    if system_key in _OVERRIDES:
        return _OVERRIDES[system_key]
    if not kind or kind not in _FACTORIES:
        raise ConnectorError(f"System '{system_key}' has no connector configured.")
    if not url:
        raise ConnectorError(f"System '{system_key}' has no connection URL set.")
    return _FACTORIES[kind](url)
