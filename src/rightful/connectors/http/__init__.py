"""The declarative HTTP connector: a system's API described by a YAML config (see
docs/http-connectors.md), published as the `http` connector kind.

A connection's settings: `config` (the config's YAML text) or `shipped` (the name of a config
that ships with Rightful, see `shipped()`), `params` (the config's connector params: host, keys,
tokens), and optionally `base_url` (overrides the config's protocol and host: a sandbox, a proxy)
and the patience settings of `Tuning` (max_attempts, backoff_seconds, max_wait_seconds,
timeout_seconds, max_pages).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from rightful.connectors.http.client import Tuning
from rightful.connectors.http.config import HTTPConfig, load_config
from rightful.connectors.http.connector import HTTPConnector
from rightful.connectors.http.dataset import complete_dataset
from rightful.connectors.registry import ConnectorKind
from rightful.core.errors import InvalidInputError

__all__ = [
    "KIND",
    "HTTPConfig",
    "HTTPConnector",
    "Tuning",
    "complete_dataset",
    "config_of",
    "connect",
    "load_config",
    "shipped",
    "shipped_dataset",
]

CONFIGS = Path(__file__).parent / "configs"


def shipped() -> list[str]:
    """The names of the configs that ship with Rightful."""
    return sorted(p.name.removesuffix("_config.yml") for p in CONFIGS.glob("*_config.yml"))


def _shipped_file(name: str, suffix: str) -> Path:
    if name not in shipped():
        known = ", ".join(shipped())
        raise InvalidInputError(f"No shipped HTTP config is named '{name}'. Shipped: {known}.")
    return CONFIGS / f"{name}{suffix}"


def shipped_dataset(name: str) -> str:
    """The fideslang dataset (YAML) that goes with a shipped config."""
    return _shipped_file(name, "_dataset.yml").read_text()


def config_of(settings: Mapping[str, Any]) -> HTTPConfig:
    """The config a connection's settings name or hold."""
    if settings.get("shipped"):
        return load_config(_shipped_file(str(settings["shipped"]), "_config.yml").read_text())
    if not settings.get("config"):
        raise InvalidInputError("An 'http' connection needs a 'config' (YAML) or 'shipped' name.")
    return load_config(str(settings["config"]))


def _params(settings: Mapping[str, Any]) -> dict[str, Any]:
    params = settings.get("params") or {}
    if not isinstance(params, Mapping):
        raise InvalidInputError("An 'http' connection's 'params' must be a mapping.")
    return dict(params)


def check(settings: Mapping[str, Any]) -> None:
    """The config loads and every connector param without a default is given."""
    config = config_of(settings)
    given = _params(settings)
    missing = [
        p.name
        for p in config.connector_params
        if p.default_value is None and given.get(p.name) in (None, "")
    ]
    if missing:
        raise InvalidInputError(
            f"The '{config.name}' connection needs the param(s): {', '.join(missing)}."
        )
    try:
        Tuning.from_settings(settings)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(
            "An 'http' connection's patience settings must be numbers."
        ) from exc


def connect(settings: Mapping[str, Any]) -> HTTPConnector:
    """A connector from a connection's settings."""
    return HTTPConnector(
        config_of(settings),
        params=_params(settings),
        base_url=str(settings["base_url"]) if settings.get("base_url") else None,
        tuning=Tuning.from_settings(settings),
    )


KIND = ConnectorKind(
    name="http",
    connect=connect,
    check=check,
    description="An HTTP API described by a declarative config (the peer's SaaS format).",
)
