"""The one place that knows how to mask a value: each strategy a small pure function.

Names follow Fides' `masking_strategy_override` where Fides has the strategy (`null_rewrite`,
`string_rewrite`, `hmac`); the generalisations are Rightful's own.
"""

from __future__ import annotations

import hashlib
import hmac as hmac_lib
import re
from collections.abc import Callable, Mapping
from datetime import date, datetime
from decimal import ROUND_FLOOR, Decimal
from typing import Any

from rightful.core.errors import InvalidInputError

Config = Mapping[str, Any]
Strategy = Callable[[Any, Config, str], Any]


def null_rewrite(value: Any, config: Config, secret: str) -> Any:
    """Replace with NULL."""
    return None


def string_rewrite(value: Any, config: Config, secret: str) -> Any:
    """Replace with a fixed value (`rewrite_value`, default "MASKED")."""
    return None if value is None else config.get("rewrite_value", "MASKED")


def keyed_hash(value: Any, config: Config, secret: str) -> Any:
    """HMAC-SHA256 with the managed secret: the same input always gives the same token."""
    if value is None:
        return None
    digest = hmac_lib.new(secret.encode(), str(value).encode(), hashlib.sha256).hexdigest()
    return digest[: int(config.get("length", 64))]


def redact(value: Any, config: Config, secret: str) -> Any:
    """Keep the shape, hide the content: every letter and digit becomes `*`."""
    return None if value is None else re.sub(r"[A-Za-z0-9]", "*", str(value))


def generalize_date(value: Any, config: Config, secret: str) -> Any:
    """A date or time becomes January 1 of its year."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.replace(month=1, day=1, hour=0, minute=0, second=0, microsecond=0)
    if isinstance(value, date):
        return value.replace(month=1, day=1)
    return f"{str(value)[:4]}-01-01"


def generalize_postcode(value: Any, config: Config, secret: str) -> Any:
    """Keep the first `keep` characters (default 3) of a postcode: 94107 -> 941."""
    return None if value is None else str(value)[: int(config.get("keep", 3))]


def generalize_coordinates(value: Any, config: Config, secret: str) -> Any:
    """Snap a coordinate down to a grid of `cell` degrees (default 0.1, about 11 km)."""
    if value is None:
        return None
    cell = Decimal(str(config.get("cell", "0.1")))
    snapped = (Decimal(str(value)) / cell).to_integral_value(rounding=ROUND_FLOOR) * cell
    return float(snapped) if isinstance(value, float) else snapped


STRATEGIES: dict[str, Strategy] = {
    "null_rewrite": null_rewrite,
    "string_rewrite": string_rewrite,
    "hmac": keyed_hash,
    "redact": redact,
    "generalize_date": generalize_date,
    "generalize_postcode": generalize_postcode,
    "generalize_coordinates": generalize_coordinates,
}


def check_strategy(name: str) -> None:
    """Refuse a strategy Rightful does not know, naming the ones it does."""
    if name not in STRATEGIES:
        known = ", ".join(sorted(STRATEGIES))
        raise InvalidInputError(f"Unknown masking strategy '{name}'; use one of {known}.")


def mask_value(name: str, value: Any, *, config: Config | None = None, secret: str) -> Any:
    """`value` masked with the named strategy; a `format_preservation: {suffix: ...}` in the
    configuration (as Fides writes it) is appended to a masked text, so `MASKED@example.com`
    still passes a column's e-mail check."""
    check_strategy(name)
    config = config or {}
    masked = STRATEGIES[name](value, config, secret)
    suffix = (config.get("format_preservation") or {}).get("suffix")
    if suffix and isinstance(masked, str):
        return masked + str(suffix)
    return masked
