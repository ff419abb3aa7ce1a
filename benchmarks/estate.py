"""A large copy of the demo estate on PostgreSQL, generated server-side with INSERT ... SELECT.

The three demo systems' eleven tables live in one database. Every value is picked by hashing a
row's number (`hashint8extended`), so a rebuild gives the same rows; children are drawn from
their parents in the same proportions as `rightful.demo.estate`, and the indexes and foreign keys
of `estate_metadata()` are added after the rows are in.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import psycopg
from psycopg import sql
from sqlalchemy.dialects import postgresql
from sqlalchemy.schema import AddConstraint, CreateIndex, CreateTable

from benchmarks.pools import pools
from rightful.demo.estate import ANCHOR, estate_metadata

VERSION = 1  # bump when the generator changes, so old estates are rebuilt
SEED = 7
_AT = f"timestamp '{ANCHOR.isoformat(sep=' ')}'"
_HELPERS = (
    """CREATE FUNCTION pg_temp.pick(seed bigint, salt int, n int) RETURNS int
       LANGUAGE sql IMMUTABLE
       AS $$ SELECT mod((hashint8extended(seed, salt) & 2147483647), n)::int $$""",
    """CREATE FUNCTION pg_temp.frac(seed bigint, salt int) RETURNS float8
       LANGUAGE sql IMMUTABLE
       AS $$ SELECT (hashint8extended(seed, salt) & 4503599627370495)::float8
                    / 4503599627370496 $$""",
    """CREATE FUNCTION pg_temp.token(seed bigint, salt int, chars int) RETURNS text
       LANGUAGE sql IMMUTABLE AS $$ SELECT left(translate(encode(
           sha256(int8send(seed) || int4send(salt)), 'base64'), '+/=', '-_'), chars) $$""",
    """CREATE FUNCTION pg_temp.between(a timestamp, b timestamp, f float8) RETURNS timestamp
       LANGUAGE sql IMMUTABLE AS $$ SELECT date_trunc('second', a + (b - a) * f) $$""",
)


class _Sql:
    """Snippets of the generator's SQL, sized to the pools."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.sizes = {k: len(v) for k, v in values.items() if isinstance(v, list)}

    def pick(self, pool: str, seed: str, salt: int) -> str:
        """One element of a pool, chosen by hashing `seed`."""
        return f"(%({pool})s::text[])[1 + pg_temp.pick({seed}, {salt}, {self.sizes[pool]})]"

    def street(self, seed: str, salt: int) -> str:
        """A house number, a street and sometimes an apartment."""
        return (
            f"(1 + pg_temp.pick({seed}, {salt}, 9899))::text || ' ' || "
            f"{self.pick('street', seed, salt + 1)} || CASE WHEN pg_temp.pick({seed}, "
            f"{salt + 2}, 10) = 0 THEN ' Apt ' || (1 + pg_temp.pick({seed}, {salt + 3}, 40)) "
            "ELSE '' END"
        )

    def zip_code(self, seed: str, salt: int) -> str:
        """A ZIP code in the customer's state (place drawn with salt 3, as in customers)."""
        return (
            f"(%(zip3)s::text[])[1 + pg_temp.pick({seed}, 3, {self.sizes['zip3']})] || "
            f"lpad(pg_temp.pick({seed}, {salt}, 100)::text, 2, '0')"
        )


# Order lines are a function of the order id, so orders can carry their total.
_ITEMS = "(1 + pg_temp.pick({o}, 34, 4))"
_SKU = "mod(pg_temp.pick({o}, 32, 9) + {j} - 1, 9)"
_QTY = "(1 + pg_temp.pick({o} * 4 + {j}, 33, 3))"


def _statements(s: _Sql) -> list[tuple[str, str]]:
    """(table, INSERT ... SELECT) in an order where every parent comes first."""
    items, sku, qty = (t.format(o="o.id", j="j") for t in (_ITEMS, _SKU, _QTY))
    customer_places = f"pg_temp.pick(g, 3, {s.sizes['state']})"
    return [
        (
            "customers",
            f"""
INSERT INTO customers (id, email, first_name, last_name, phone, birth_date, password_hash,
                       security_question, security_answer, state, created_at)
SELECT g, {s.pick("first_key", "g", 1)} || '.' || {s.pick("last_key", "g", 2)} || '.' || g
          || '@' || {s.pick("domain", "g", 4)},
       {s.pick("first", "g", 1)}, {s.pick("last", "g", 2)},
       '+1' || (%(area)s::int[])[1 + mod(g / 100, {s.sizes["area"]})] || '5550'
          || (100 + mod(g, 100)),
       {_AT}::date - (6600 + pg_temp.pick(g, 5, 22401)),
       '$argon2id$v=19$m=65536,t=3,p=4$' || pg_temp.token(g, 6, 22) || '$'
          || pg_temp.token(g, 7, 43),
       {s.pick("question", "g", 8)}, {s.pick("answer", "g", 8)},
       (%(state)s::text[])[1 + {customer_places}],
       {_AT} - interval '1 day' - pg_temp.pick(g, 9, 86400 * (4 * 365 - 1)) * interval '1 second'
FROM generate_series(1, %(customers)s) g""",
        ),
        (
            "addresses",
            f"""
INSERT INTO addresses (id, customer_id, kind, street, city, state, postal_code, country)
SELECT c.id, c.id, 'billing', {s.street("c.id", 10)}, {s.pick("city", "c.id", 14)}, c.state,
       {s.zip_code("c.id", 15)}, 'US'
FROM customers c;
SELECT setval(pg_get_serial_sequence('addresses', 'id'), %(customers)s);
INSERT INTO addresses (customer_id, kind, street, city, state, postal_code, country)
SELECT c.id, 'shipping', {s.street("c.id", 20)}, {s.pick("city", "c.id", 24)}, c.state,
       {s.zip_code("c.id", 25)}, 'US'
FROM customers c WHERE pg_temp.frac(c.id, 26) < 0.4""",
        ),
        (
            "orders",
            f"""
INSERT INTO orders (id, customer_id, placed_at, status, total, shipping_address_id)
SELECT o.id, o.cid, o.placed_at, {s.pick("order_status", "o.id", 31)},
       (SELECT sum((%(price)s::numeric[])[1 + {sku}] * {qty})
        FROM generate_series(1, {items}) j),
       o.ship
FROM (SELECT nextval(pg_get_serial_sequence('orders', 'id')) AS id, c.id AS cid,
             coalesce(a.id, c.id) AS ship, pg_temp.between(c.created_at, {_AT},
             pg_temp.frac(c.id * 8 + g, 30)) AS placed_at
      FROM customers c
      LEFT JOIN addresses a ON a.customer_id = c.id AND a.kind = 'shipping'
      CROSS JOIN LATERAL generate_series(1, pg_temp.pick(c.id, 29, 7)) g) o""",
        ),
        (
            "order_items",
            f"""
INSERT INTO order_items (order_id, sku, product_name, quantity, unit_price)
SELECT o.id, (%(sku)s::text[])[1 + x.k], (%(product)s::text[])[1 + x.k], x.q,
       (%(price)s::numeric[])[1 + x.k]
FROM orders o CROSS JOIN LATERAL generate_series(1, {items}) j
CROSS JOIN LATERAL (SELECT {sku} AS k, {qty} AS q) x""",
        ),
        (
            "payment_methods",
            f"""
INSERT INTO payment_methods (customer_id, brand, card_last4, card_token, exp_month, exp_year,
                             created_at)
SELECT c.id, {s.pick("brand", "k.s", 41)}, lpad(pg_temp.pick(k.s, 42, 10000)::text, 4, '0'),
       'tok_' || pg_temp.token(k.s, 43, 24), 1 + pg_temp.pick(k.s, 44, 12),
       {ANCHOR.year} + pg_temp.pick(k.s, 45, 6),
       pg_temp.between(c.created_at, {_AT}, pg_temp.frac(k.s, 46))
FROM customers c CROSS JOIN LATERAL generate_series(1, pg_temp.pick(c.id, 40, 3)) g
CROSS JOIN LATERAL (SELECT c.id * 4 + g AS s) k""",
        ),
        # About one bought line in five is reviewed: 1.4 reviews a customer, as in the demo.
        (
            "product_reviews",
            f"""
INSERT INTO product_reviews (customer_id, sku, rating, title, body, created_at)
SELECT o.customer_id, (%(sku)s::text[])[1 + {sku}], 1 + pg_temp.pick(k.s, 51, 5),
       {s.pick("title", "k.s", 52)}, {s.pick("review", "k.s", 53)},
       pg_temp.between(o.placed_at, {_AT}, pg_temp.frac(k.s, 54))
FROM orders o CROSS JOIN LATERAL generate_series(1, {items}) j
CROSS JOIN LATERAL (SELECT o.id * 4 + j AS s) k
WHERE pg_temp.frac(k.s, 50) < 0.19""",
        ),
        (
            "support_tickets",
            f"""
INSERT INTO support_tickets (customer_id, customer_email, subject, status, opened_at)
SELECT c.id, c.email, {s.pick("subject", "k.s", 61)},
       (ARRAY['open', 'pending', 'solved'])[1 + pg_temp.pick(k.s, 62, 3)],
       pg_temp.between(c.created_at, {_AT}, pg_temp.frac(k.s, 63))
FROM customers c CROSS JOIN LATERAL generate_series(1, pg_temp.pick(c.id, 60, 3)) g
CROSS JOIN LATERAL (SELECT c.id * 4 + g AS s) k""",
        ),
        (
            "chat_messages",
            f"""
INSERT INTO chat_messages (ticket_id, sender, body, sent_at)
SELECT t.id, CASE WHEN mod(n, 2) = 1 THEN 'agent' ELSE 'customer' END,
       CASE WHEN n = 0 THEN {s.pick("opening", "t.id * 8", 71)}
            WHEN mod(n, 2) = 1 THEN {s.pick("agent_line", "t.id * 8 + n", 72)}
            ELSE {s.pick("reply", "t.id * 8 + n", 73)} END,
       t.opened_at + (3 * n + 1) * interval '1 minute'
FROM support_tickets t CROSS JOIN LATERAL generate_series(0, 1 + pg_temp.pick(t.id, 70, 5)) n""",
        ),
        (
            "marketing_subscriptions",
            f"""
INSERT INTO marketing_subscriptions (email, topic, status, source, updated_at)
SELECT c.email, (%(topic)s::text[])[1 + mod(pg_temp.pick(c.id, 81, 4) + g - 1, 4)],
       (ARRAY['subscribed', 'subscribed', 'unsubscribed'])[1 + pg_temp.pick(k.s, 82, 3)],
       {s.pick("source", "k.s", 83)}, pg_temp.between(c.created_at, {_AT}, pg_temp.frac(k.s, 84))
FROM customers c CROSS JOIN LATERAL generate_series(1, pg_temp.pick(c.id, 80, 4)) g
CROSS JOIN LATERAL (SELECT c.id * 4 + g AS s) k""",
        ),
        (
            "devices",
            f"""
INSERT INTO devices (id, device_id, customer_id, model, first_seen)
SELECT d.id, 'LMN-' || (%(model_part)s::text[])[1 + d.k] || '-' || lpad(d.id::text, 7, '0')
          || upper(lpad(to_hex(pg_temp.pick(d.id, 92, 65536)), 4, '0')),
       d.cid, (%(product)s::text[])[1 + d.k], d.first_seen
FROM (SELECT nextval(pg_get_serial_sequence('devices', 'id')) AS id, c.id AS cid,
             pg_temp.pick(c.id * 4 + g, 91, 9) AS k,
             pg_temp.between(c.created_at, {_AT}, pg_temp.frac(c.id * 4 + g, 93)) AS first_seen
      FROM customers c
      CROSS JOIN LATERAL generate_series(1, 1 + pg_temp.pick(c.id, 90, 3)) g) d""",
        ),
        (
            "web_sessions",
            f"""
INSERT INTO web_sessions (device_id, ip_address, user_agent, started_at, pages_viewed)
SELECT d.device_id, {s.pick("octet", "k.s", 101)} || '.' || pg_temp.pick(k.s, 102, 256) || '.'
          || pg_temp.pick(k.s, 103, 256) || '.' || (1 + pg_temp.pick(k.s, 104, 254)),
       {s.pick("agent", "d.id", 105)}, pg_temp.between(d.first_seen, {_AT}, pg_temp.frac(k.s, 106)),
       1 + pg_temp.pick(k.s, 107, 20)
FROM devices d CROSS JOIN LATERAL generate_series(1, 1 + pg_temp.pick(d.id, 100, 5)) g
CROSS JOIN LATERAL (SELECT d.id * 8 + g AS s) k""",
        ),
    ]


def _tables() -> list[Any]:
    """Every table of the three systems, parents first within each system."""
    return [t for md in estate_metadata().values() for t in md.sorted_tables]


def _ddl(element: Any) -> str:
    return str(element.compile(dialect=postgresql.dialect())).strip()


def table_names() -> list[str]:
    """The eleven estate tables."""
    return [t.name for t in _tables()]


def row_counts(conn: psycopg.Connection[Any]) -> dict[str, int]:
    """Exact rows per table."""
    query = "SELECT count(*) FROM {}"
    return {
        name: conn.execute(sql.SQL(query).format(sql.Identifier(name))).fetchone()[0]  # type: ignore[index]
        for name in table_names()
    }


def size_gb(conninfo: str) -> float:
    """The estate database's size on disk, tables and indexes."""
    with psycopg.connect(conninfo) as conn:
        row = conn.execute("SELECT pg_database_size(current_database())").fetchone()
    return round(int(row[0]) / 1e9, 2) if row else 0.0


def _marker(conn: psycopg.Connection[Any]) -> dict[str, Any]:
    row = conn.execute(
        "SELECT shobj_description(oid, 'pg_database') FROM pg_database "
        "WHERE datname = current_database()"
    ).fetchone()
    try:
        found: dict[str, Any] = json.loads(row[0]) if row and row[0] else {}
    except ValueError:
        return {}
    return found


def is_built(conninfo: str, customers: int) -> dict[str, int] | None:
    """The row counts when the estate is complete for `customers`, else None."""
    try:
        with psycopg.connect(conninfo) as conn:
            marker = _marker(conn)
            if marker.get("version") != VERSION or marker.get("customers") != customers:
                return None
            counts = row_counts(conn)
    except psycopg.Error:
        return None
    return counts if counts == marker.get("rows") else None


def _timed(log: Callable[[str], None], label: str, timings: dict[str, float]) -> Callable[[], None]:
    start = time.perf_counter()
    log(f"  {label} ...")

    def done() -> None:
        timings[label] = round(time.perf_counter() - start, 1)
        log(f"  {label}: {timings[label]} s")

    return done


def build(conninfo: str, customers: int, log: Callable[[str], None]) -> dict[str, Any]:
    """Create the tables, fill them server-side, then index, link and analyse them."""
    params: dict[str, Any] = {**pools(SEED), "customers": customers}
    timings: dict[str, float] = {}
    with psycopg.connect(conninfo, autocommit=True) as conn:
        for setting in (
            "synchronous_commit = off",
            "maintenance_work_mem = '1GB'",
            "work_mem = '256MB'",
        ):
            conn.execute(f"SET {setting}")
        for helper in _HELPERS:
            conn.execute(helper)
        for table in _tables():
            conn.execute(_ddl(CreateTable(table, include_foreign_key_constraints=[])))
        for table, statement in _statements(_Sql(params)):
            done = _timed(log, f"fill {table}", timings)
            with conn.transaction():
                for part in statement.split(";"):
                    conn.execute(part, params)  # type: ignore[arg-type]
            done()
        done = _timed(log, "indexes and foreign keys", timings)
        for table in _tables():
            for index in sorted(table.indexes, key=lambda i: i.name or ""):
                conn.execute(_ddl(CreateIndex(index)))
            for fk in table.foreign_key_constraints:
                conn.execute(_ddl(AddConstraint(fk)))
        done()
        done = _timed(log, "vacuum analyze", timings)
        for name in table_names():
            conn.execute(sql.SQL("VACUUM (ANALYZE) {}").format(sql.Identifier(name)))
        done()
        counts = row_counts(conn)
        marker = json.dumps({"version": VERSION, "customers": customers, "rows": counts})
        conn.execute(
            sql.SQL("COMMENT ON DATABASE {} IS {}").format(
                sql.Identifier(conn.info.dbname), sql.Literal(marker)
            )
        )
    return {"rows": counts, "seconds": timings}
