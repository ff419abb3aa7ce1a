"""The lower bound: the same indexed reads Rightful's plan makes, issued with psycopg directly.

Each read fetches every column of every matching row, as Rightful's connector does, and a read
is skipped when the rows it depends on found nothing, as Rightful skips an empty match.
Statements are prepared and the connection is in autocommit: nothing but the lookups.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import psycopg

from rightful.demo.estate import estate_metadata

# (table, match column, where the values come from: the identity or (table, column) read before)
# in the order of Rightful's plan: breadth-first from the e-mail address, then by address.
LOOKUPS: tuple[tuple[str, str, tuple[str, str] | None], ...] = (
    ("marketing_subscriptions", "email", None),
    ("customers", "email", None),
    ("support_tickets", "customer_email", None),
    ("devices", "customer_id", ("customers", "id")),
    ("addresses", "customer_id", ("customers", "id")),
    ("orders", "customer_id", ("customers", "id")),
    ("payment_methods", "customer_id", ("customers", "id")),
    ("product_reviews", "customer_id", ("customers", "id")),
    ("chat_messages", "ticket_id", ("support_tickets", "id")),
    ("web_sessions", "device_id", ("devices", "device_id")),
    ("order_items", "order_id", ("orders", "id")),
)
COLUMNS = {
    t.name: [c.name for c in t.columns]
    for md in estate_metadata().values()
    for t in md.tables.values()
}
_QUERIES = {
    table: f"SELECT {', '.join(COLUMNS[table])} FROM {table} WHERE {column} = ANY(%s)"
    for table, column, _ in LOOKUPS
}


def lookup(conn: psycopg.Connection[Any], email: str) -> int:
    """Every row Rightful reads for one e-mail address; returns how many."""
    return sum(len(rows) for rows in find(conn, email).values())


def find(conn: psycopg.Connection[Any], email: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row Rightful reads for one e-mail address, by table (all columns, in `COLUMNS`)."""
    found: dict[str, list[tuple[Any, ...]]] = {}
    for table, _, source in LOOKUPS:
        if source is None:
            values: list[Any] = [email]
        else:
            position = COLUMNS[source[0]].index(source[1])
            values = list(dict.fromkeys(row[position] for row in found[source[0]]))
        found[table] = (
            conn.execute(_QUERIES[table], (values,), prepare=True).fetchall() if values else []
        )
    return found


def run(
    conninfo: str, emails: list[str], progress: Callable[[int], None] | None = None
) -> list[tuple[str, float, int]]:
    """(email, seconds, rows) for each address, one after another on one connection."""
    out = []
    with psycopg.connect(conninfo, autocommit=True) as conn:
        lookup(conn, emails[0])  # prepare the statements once, as any pool would have them
        for n, email in enumerate(emails, 1):
            start = time.perf_counter()
            rows = lookup(conn, email)
            out.append((email, time.perf_counter() - start, rows))
            if progress and n % 250 == 0:
                progress(n)
    return out
