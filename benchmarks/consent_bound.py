"""The lower bounds for consent: the same writes and lookups issued directly with psycopg.

Writes go to empty copies of the consent tables in schema `bound` (`LIKE ... INCLUDING ALL`
plus the same foreign keys), so Rightful's ledger is never touched; lookups read Rightful's own
tables. Statements are prepared; every connection is in autocommit and a request's writes are
one transaction. Concurrent runs use one asyncio task per connection, as the load generator
does.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import psycopg
from psycopg import sql

from benchmarks.loadgen import latency
from benchmarks.procstat import CpuMeter, WaitSampler

SCHEMA = "bound"
TABLES = (
    "consent_subjects",
    "consent_events",
    "consent_states",
    "marketing_suppressions",
    "audit_chain_head",
)
CONSENT_CHAIN = 2
GENESIS = "0" * 64
MARKETING = {"marketing", "marketing.newsletter", "marketing.offers", "marketing.product_news"}

INSERT_SUBJECT = (
    "INSERT INTO bound.consent_subjects (id, kind, lookup_hash, email_sha256, sealed_email,"
    " created_at) VALUES (%s, 'person', %s, %s, %s, %s)"
)
INSERT_EVENT = (
    "INSERT INTO bound.consent_events (uid, subject_id, purpose, channel, state, interface,"
    " notice_version, jurisdiction, proof, actor, at, prev_hash, hash)"
    " VALUES (%s, %s, %s, %s, %s, 'api', '2026-01-01', 'US-CA', '{}', %s, %s, %s, %s)"
    " RETURNING id"
)
UPSERT_STATE = (
    "INSERT INTO bound.consent_states (subject_id, purpose, channel, state, event_id, updated_at)"
    " VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (subject_id, purpose, channel) DO UPDATE"
    " SET state = excluded.state, event_id = excluded.event_id, updated_at = excluded.updated_at"
)
INSERT_SUPPRESSION = (
    "INSERT INTO bound.marketing_suppressions (email_sha256, topic, reason, since)"
    " VALUES (%s, %s, 'api', %s) ON CONFLICT DO NOTHING"
)
LOCK_CHAIN = "UPDATE bound.audit_chain_head SET events = events WHERE id = %s RETURNING last_hash"
WRITE_CHAIN = "UPDATE bound.audit_chain_head SET last_hash = %s, events = events + %s WHERE id = %s"
FIND_SUBJECT = "SELECT id, person_id FROM consent_subjects WHERE lookup_hash = %s"
FIND_STATES = "SELECT purpose, channel, state FROM consent_states WHERE subject_id = ANY(%s)"
Job = Callable[[psycopg.AsyncConnection[Any], Any], Awaitable[None]]


def settle(conninfo: str) -> None:
    """Statistics fresh and dirty pages written, so no run starts behind autovacuum or a
    checkpoint caused by the setup before it."""
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
        conn.execute("CHECKPOINT")


def copy_tables(conninfo: str, *, filled: bool = False) -> None:
    """Copies of the consent tables in schema `bound`, with the chain's head row: empty, or
    `filled` with the store's rows (so the bound's indexes are as large as Rightful's)."""
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
        conn.execute(f"CREATE SCHEMA {SCHEMA}")
        for table in TABLES:
            conn.execute(f"CREATE TABLE {SCHEMA}.{table} (LIKE public.{table} INCLUDING ALL)")
        regclasses = [f"public.{t}" for t in TABLES]
        keys = conn.execute(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid)"
            " FROM pg_constraint WHERE contype = 'f' AND conrelid = ANY(%s::regclass[])"
            " AND confrelid = ANY(%s::regclass[])",
            (regclasses, regclasses),
        ).fetchall()
        conn.execute(f"SET search_path = {SCHEMA}")  # the definitions name tables unqualified
        for table, name, definition in keys:
            conn.execute(
                sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} " + definition).format(
                    sql.Identifier(table.rsplit(".", 1)[-1]), sql.Identifier(name)
                )
            )
        conn.execute(
            "INSERT INTO audit_chain_head (id, events, last_hash) VALUES (%s, 0, %s)",
            (CONSENT_CHAIN, GENESIS),
        )
        if filled:  # parents first, for the foreign keys
            for table in TABLES[:4]:
                conn.execute(f"INSERT INTO {SCHEMA}.{table} SELECT * FROM public.{table}")
            conn.execute(f"ANALYZE {', '.join(f'{SCHEMA}.{t}' for t in TABLES[:4])}")


def reset_tables(conninfo: str) -> None:
    """Empty the copies and start their chain again."""
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(
            f"TRUNCATE {SCHEMA}.consent_states, {SCHEMA}.consent_events,"
            f" {SCHEMA}.consent_subjects, {SCHEMA}.marketing_suppressions"
        )
        conn.execute(f"UPDATE {SCHEMA}.audit_chain_head SET last_hash = %s, events = 0", (GENESIS,))


def drop_tables(conninfo: str) -> None:
    """Remove the copies."""
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")


# ------------------------------------------------------------------------------------ writes


def _digest(*parts: str) -> str:
    return hashlib.sha256("|".join(parts).encode()).hexdigest()


def write_request(sealed_length: int, chained: bool) -> Job:
    """One API request's writes: the new person, then per choice its event and state (and a
    suppression for withdrawn marketing e-mail), in one transaction; with `chained`, the
    consent chain's head row locked first and written last, as Rightful does."""

    writes = _writes(sealed_length, chained)

    async def job(conn: psycopg.AsyncConnection[Any], body: dict[str, Any]) -> None:
        async with conn.transaction():
            await writes(conn, body)

    return job


def write_batch(sealed_length: int) -> Job:
    """A batch request's writes: every body's `write_request` writes (unchained), all in one
    transaction."""
    writes = _writes(sealed_length, chained=False)

    async def job(conn: psycopg.AsyncConnection[Any], bodies: list[dict[str, Any]]) -> None:
        async with conn.transaction():
            for body in bodies:
                await writes(conn, body)

    return job


def _writes(sealed_length: int, chained: bool) -> Job:
    async def writes(conn: psycopg.AsyncConnection[Any], body: dict[str, Any]) -> None:
        now = datetime.now(UTC)
        email = body["email"]
        subject = uuid.uuid4().hex
        await conn.execute(
            INSERT_SUBJECT,
            (
                subject,
                _digest("lookup", email),
                _digest(email),
                secrets.token_urlsafe(sealed_length)[:sealed_length],
                now,
            ),
            prepare=True,
        )
        prev = GENESIS
        if chained:
            found = await conn.execute(LOCK_CHAIN, (CONSENT_CHAIN,), prepare=True)
            row = await found.fetchone()
            prev = row[0] if row else GENESIS
        for choice in body["choices"]:
            purpose, channel, state = choice["purpose"], choice["channel"], choice["state"]
            new_hash = _digest(prev, subject, purpose, channel, state)
            found = await conn.execute(
                INSERT_EVENT,
                (
                    uuid.uuid4().hex,
                    subject,
                    purpose,
                    channel,
                    state,
                    "bench",
                    now,
                    prev,
                    new_hash,
                ),
                prepare=True,
            )
            event = await found.fetchone()
            assert event is not None
            prev = new_hash
            await conn.execute(
                UPSERT_STATE, (subject, purpose, channel, state, event[0], now), prepare=True
            )
            if purpose in MARKETING and channel == "email" and state == "withdrawn":
                topic = "*" if purpose == "marketing" else purpose
                await conn.execute(INSERT_SUPPRESSION, (_digest(email), topic, now), prepare=True)
        if chained:
            await conn.execute(
                WRITE_CHAIN, (prev, len(body["choices"]), CONSENT_CHAIN), prepare=True
            )

    return writes


async def _lookup(conn: psycopg.AsyncConnection[Any], lookup_hash: str) -> None:
    """A subject by its lookup hash, then its (and its person's) state rows."""
    found = await conn.execute(FIND_SUBJECT, (lookup_hash,), prepare=True)
    subject = await found.fetchone()
    if subject is None:
        raise RuntimeError("a seeded person was not found")
    family = [subject[0], subject[1]] if subject[1] else [subject[0]]
    states = await conn.execute(FIND_STATES, (family,), prepare=True)
    await states.fetchall()


lookup: Job = _lookup


# ------------------------------------------------------------------------------- the driver


async def _run(
    conninfo: str, job: Job, items: list[Any], warmup: list[Any], connections: int
) -> dict[str, Any]:
    conns = [
        await psycopg.AsyncConnection.connect(conninfo, autocommit=True) for _ in range(connections)
    ]
    try:
        seconds = [0.0] * len(items)

        async def drain(todo: Any, conn: psycopg.AsyncConnection[Any], timed: bool) -> None:
            for i, item in todo:
                start = time.perf_counter()
                await job(conn, item)
                if timed:
                    seconds[i] = time.perf_counter() - start

        warm = iter(enumerate(warmup))  # prepares each connection's statements
        await asyncio.gather(*(drain(warm, c, False) for c in conns))
        with WaitSampler(conninfo) as waits:
            meter = CpuMeter(None)
            started = time.perf_counter()
            todo = iter(enumerate(items))
            await asyncio.gather(*(drain(todo, c, True) for c in conns))
            wall = time.perf_counter() - started
            cpu = meter.stop(wall)
    finally:
        for conn in conns:
            await conn.close()
    return {
        "requests": len(items),
        "concurrency": connections,
        "wall_s": round(wall, 2),
        "per_second": round(len(items) / wall, 1),
        "latency": latency(seconds),
        "cpu": cpu,
        "postgres_backends": waits.summary(),
    }


def run(
    conninfo: str, job: Job, items: list[Any], *, warmup: list[Any], connections: int
) -> dict[str, Any]:
    """`job` for every item over `connections` connections; throughput and latency."""
    return asyncio.run(_run(conninfo, job, items, warmup, connections))
