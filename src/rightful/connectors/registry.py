"""The one place that knows which connector serves which kind of system.

Connector kinds are plug-ins: each is a `ConnectorKind` published under the Python entry point
group `rightful.connectors` (the built-in `sql` and `http` kinds too), so a third party ships a
connector as its own package and Rightful finds it once installed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from threading import Lock
from typing import Any

from rightful.connectors.base import Connector
from rightful.core.errors import ConnectorError, InvalidInputError

GROUP = "rightful.connectors"

Settings = Mapping[str, Any]


def _no_check(settings: Settings) -> None:
    """Accept any settings."""


@dataclass(frozen=True)
class ConnectorKind:
    """A kind of system Rightful reaches: how to connect from settings, and how to check them.

    `connect` builds a connector from a system's (decrypted) settings; `check` raises
    InvalidInputError naming what is wrong before settings are stored; `required` lists the
    settings a connection must carry. A `by_hand` kind's systems are never called: staff search
    and erase them, and each request that reaches one gives its owner a manual task.
    """

    name: str
    connect: Callable[[Settings], Connector]
    check: Callable[[Settings], None] = _no_check
    required: tuple[str, ...] = field(default=())
    description: str = ""
    by_hand: bool = False


_KINDS: dict[str, ConnectorKind] = {}
_REGISTERED: dict[str, ConnectorKind] = {}  # added from code: kept across rediscovery
_BROKEN: dict[str, str] = {}  # plug-ins that failed to load, with why
_OVERRIDES: dict[str, Connector] = {}
_loaded = False
_lock = Lock()


def _discover() -> None:
    """Load every kind published under the entry point group (once per process)."""
    global _loaded
    with _lock:
        if _loaded:
            return
        for point in entry_points(group=GROUP):
            try:
                kind = point.load()
            except Exception as exc:
                _BROKEN[point.name] = type(exc).__name__
                continue
            if not isinstance(kind, ConnectorKind):
                _BROKEN[point.name] = "not a ConnectorKind"
                continue
            _KINDS.setdefault(point.name, kind)
        _loaded = True


def rediscover() -> None:
    """Look for entry points again (after installing a plug-in in a running process; tests)."""
    global _loaded
    with _lock:
        _loaded = False
        for name in [n for n, k in _KINDS.items() if k is not _REGISTERED.get(n)]:
            del _KINDS[name]
        _BROKEN.clear()
    _discover()


def register(kind: ConnectorKind) -> None:
    """Add a connector kind from code (entry points are the usual way)."""
    with _lock:
        _KINDS[kind.name] = kind
        _REGISTERED[kind.name] = kind


def kinds() -> dict[str, ConnectorKind]:
    """Every known connector kind by name."""
    _discover()
    return dict(_KINDS)


def kind(name: str) -> ConnectorKind:
    """One connector kind; InvalidInputError naming the known ones for an unknown name."""
    found = kinds().get(name)
    if found is None:
        known = ", ".join(sorted(_KINDS)) or "none"
        why = f" (its plug-in failed to load: {_BROKEN[name]})" if name in _BROKEN else ""
        raise InvalidInputError(f"Unknown connector kind '{name}'{why}. Known kinds: {known}.")
    return found


def by_hand(name: str | None) -> bool:
    """Whether systems of this kind are handled by people (manual tasks), not called."""
    found = kinds().get(name) if name else None
    return found is not None and found.by_hand


def check_settings(name: str, settings: Settings) -> None:
    """Raise InvalidInputError when settings cannot make a connection of this kind."""
    found = kind(name)
    missing = [k for k in found.required if not settings.get(k)]
    if missing:
        raise InvalidInputError(
            f"A '{name}' connection needs the setting(s): {', '.join(missing)}."
        )
    found.check(settings)


def override(system_key: str, connector: Connector | None) -> None:
    """Serve one system from a given connector (used by tests with the fake)."""
    if connector is None:
        _OVERRIDES.pop(system_key, None)
    else:
        _OVERRIDES[system_key] = connector


def connector_for(system_key: str, kind_name: str | None, settings: Settings | None) -> Connector:
    """A connector for a system, or ConnectorError saying what is missing."""
    if system_key in _OVERRIDES:
        return _OVERRIDES[system_key]
    known = kinds()
    if not kind_name or kind_name not in known:
        raise ConnectorError(f"System '{system_key}' has no connector configured.")
    if not settings:
        raise ConnectorError(f"System '{system_key}' has no connection settings set.")
    return known[kind_name].connect(settings)
