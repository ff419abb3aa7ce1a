"""A transaction's audit events appended in one statement on PostgreSQL: the chain's head
locked, each event hashed by the store onto the one before, the events inserted and the head
written back, where it took two statements (the head's lock and read, then the insert).

`chain.digest` is SHA-256 over the JSON text of [previous hash, *fields]. A hex hash needs no
escaping, so that text is '["' + previous hash + '", ' and then the JSON of the fields without
its opening bracket (`chain.tail`, written here in Python). PostgreSQL's sha256() puts the
previous hash in front, so each event hashes exactly as `chain.digest` would: the log verifies
as before, and older events with it.

The head's row lock is taken by the statement's FOR UPDATE and held to commit. Under READ
COMMITTED a writer that waited for it reads the head its predecessor committed, and the UPDATE
of the same row follows that newest version too, so two writers never chain onto one hash
(tests/integration/store/test_audit_concurrency.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import BindParameter, Integer, String, Table, TextClause, bindparam, text
from sqlalchemy.orm import Session

from rightful.security import chain

# Events a statement chains at most; a longer batch takes the head's lock and hashes in Python
# (security/audit.py), as its statement would otherwise grow with every event.
MOST_EVENTS = 16
_FIELDS = ("at", "actor", "action", "subject_type", "subject_id", "detail")
_CASTS = {
    "at": "TIMESTAMP WITH TIME ZONE",
    "actor": "VARCHAR",
    "action": "VARCHAR",
    "subject_type": "VARCHAR",
    "subject_id": "VARCHAR",
    "detail": "JSON",
}
# Built once for each number of events: building costs more than binding values.
_BUILT: dict[int, TextClause] = {}


def _statement(table: Table, count: int) -> TextClause:
    built = _BUILT.get(count)
    if built is not None:
        return built
    rows = ", ".join(
        "("
        + ", ".join(
            [str(n), *(f"CAST(:{f}{n} AS {_CASTS[f]})" for f in _FIELDS), f"CAST(:tail{n} AS TEXT)"]
        )
        + ")"
        for n in range(1, count + 1)
    )
    columns = ", ".join(_FIELDS)
    # Only names from this module and bind parameters go in: no value is ever spliced in.
    sql = f"""
WITH RECURSIVE head AS MATERIALIZED (
    SELECT CAST(last_hash AS TEXT) AS last_hash FROM audit_chain_head
    WHERE id = :chain FOR UPDATE
), ev (n, {columns}, tail) AS (VALUES {rows}
), chained (n, prev_hash, hash) AS (
    SELECT 0, last_hash, last_hash FROM head
    UNION ALL
    SELECT ev.n, chained.hash,
        encode(sha256(convert_to('["' || chained.hash || '", ' || ev.tail, 'UTF8')), 'hex')
    FROM chained JOIN ev ON ev.n = chained.n + 1
), head_written AS (
    UPDATE audit_chain_head
    SET events = audit_chain_head.events + :count,
        last_hash = (SELECT hash FROM chained WHERE n = :count)
    WHERE id = :chain
)
INSERT INTO {table.name} ({columns}, prev_hash, hash)
SELECT {", ".join(f"ev.{f}" for f in _FIELDS)}, chained.prev_hash, chained.hash
FROM ev JOIN chained ON chained.n = ev.n ORDER BY ev.n
RETURNING id, hash"""  # noqa: S608
    binds: list[BindParameter[Any]] = [
        bindparam("chain", type_=Integer()),
        bindparam("count", type_=Integer()),
    ]
    for n in range(1, count + 1):
        binds += [bindparam(f"{f}{n}", type_=table.c[f].type) for f in _FIELDS]
        binds.append(bindparam(f"tail{n}", type_=String()))
    built = _BUILT[count] = text(sql).bindparams(*binds)
    return built


def append(
    session: Session,
    table: Table,
    rows: list[dict[str, Any]],
    fields: Callable[[dict[str, Any]], list[Any]],
) -> bool:
    """Chain `rows` (each: the event's fields) onto the head and insert them in one statement;
    `fields(row)` lists what `chain.digest` hashes of a row. False, with nothing written, when
    the store has no head row yet (a store made without migrations: the caller starts it)."""
    values: dict[str, Any] = {"chain": chain.AUDIT_CHAIN, "count": len(rows)}
    for n, row in enumerate(rows, 1):
        values.update({f"{f}{n}": row[f] for f in _FIELDS})
        values[f"tail{n}"] = chain.tail(fields(row))
    written = session.execute(_statement(table, len(rows)), values).all()
    if not written:
        return False
    chain.took(session, chain.AUDIT_CHAIN, max(written)[1])
    return True
