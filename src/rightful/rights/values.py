"""Turn values read from any dialect into the same plain JSON values."""

from __future__ import annotations

import base64
import json
from datetime import date, datetime, time
from decimal import Decimal
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rightful.connectors.base import Row
    from rightful.security.vault import Vault


def plain(value: Any, data_type: str | None = None) -> Any:
    """A JSON-ready value; `data_type` (fideslang) settles dialect differences."""
    if value is None:
        return None
    if data_type == "boolean":
        return bool(value)
    if data_type == "integer" and isinstance(value, int | Decimal | str):
        return int(value)
    if data_type == "float" or isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime):
        return value.replace(microsecond=0).isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(value)).decode()
    if data_type == "string":
        return str(value)
    return value


def _kept(value: Any) -> Any:
    made = plain(value)
    return str(made) if made is value else made


def seal_rows(vault: Vault, rows: list[Row]) -> str:
    """Rows read for a request, encrypted to keep between runs as JSON of what `plain` makes of
    their values (not `str`: a datetime's text then differs), so a package built from kept rows
    - a run resumed, a batch's share (rights/access_batch.py) - equals one from rows just read."""
    return vault.encrypt(json.dumps(rows, default=_kept).encode()).decode()
