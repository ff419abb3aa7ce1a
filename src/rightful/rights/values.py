"""Turn values read from any dialect into the same plain JSON values."""

from __future__ import annotations

import base64
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any


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
