"""Writing many rows into Rightful's store at once: COPY on PostgreSQL, else one executemany.

A million-line list and an index over a large estate are written here; COPY takes them at
several times the speed of multi-row INSERTs, and the other stores keep the portable path.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table, insert, text
from sqlalchemy.orm import Session


def _defaults(table: Table, given: set[str]) -> dict[str, Any]:
    """The Python-side defaults of the columns not given (COPY does not apply them)."""
    out = {}
    for column in table.columns:
        default = column.default
        if column.name in given or column.primary_key or default is None:
            continue
        arg: Any = getattr(default, "arg", None)
        out[column.name] = arg(None) if getattr(default, "is_callable", False) else arg
    return out


def insert_rows(session: Session, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert `rows` (all with the same keys) into `table`, in the session's transaction."""
    if not rows:
        return
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        session.execute(insert(table), list(rows))
        return
    extra = _defaults(table, set(rows[0]))
    columns = [*rows[0], *extra]
    raw = connection.connection.driver_connection
    quoted = ", ".join(f'"{c}"' for c in columns)
    statement = f'COPY "{table.name}" ({quoted}) FROM STDIN'  # names from our own models
    with raw.cursor() as cursor, cursor.copy(statement) as copy:  # type: ignore[union-attr]
        for row in rows:
            copy.write_row([*(row[c] for c in rows[0]), *extra.values()])


def analyze(session: Session, table: Table) -> None:
    """Refresh PostgreSQL's statistics after a bulk load, so the next join plans for the rows
    just written (a hash join, not a loop over a table it believes empty)."""
    if session.connection().dialect.name == "postgresql":
        session.execute(text(f'ANALYZE "{table.name}"'))  # a name from our own models
