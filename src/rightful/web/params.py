"""Path and query parameter types the web layer shares."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path

MAX_ROW_ID = 2**63 - 1  # the largest id a 64-bit INTEGER column (SQLite, PostgreSQL) holds

RowId = Annotated[int, Path(ge=1, le=MAX_ROW_ID, description="A numeric id.")]
"""A numeric row id in a path: out-of-range numbers are a 422, never a database overflow."""
