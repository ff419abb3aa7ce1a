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

A write whose caller needs nothing back may ride along (`ride`): it waits in the session and
goes in the append's statement as one more data-modifying WITH, one statement fewer for its
transaction. It is written alone instead when the transaction appends no events that way
(before commit), when a statement touches its table first, inside a savepoint, and on other
stores: the transaction always sees its own writes, as when they were sent at once.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    BindParameter,
    ClauseElement,
    Integer,
    String,
    Table,
    TextClause,
    bindparam,
    event,
    text,
)
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction
from sqlalchemy.sql.util import find_tables
from sqlalchemy.types import TypeEngine

from rightful.core import written
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
_RIDERS = "audit_riders"


@dataclass(frozen=True)
class Rider:
    """A kind of write that may ride in the append's statement: `sql` (one INSERT, UPDATE or
    DELETE of `table`, written by the module that owns the table) with its bind parameters'
    names and types. Only names and bind parameters go in `sql`, never a value."""

    name: str
    table: str
    sql: str
    types: tuple[tuple[str, TypeEngine[Any]], ...]

    def binds(self, prefix: str = "") -> list[BindParameter[Any]]:
        return [bindparam(prefix + k, type_=t) for k, t in self.types]

    def renamed(self, prefix: str) -> str:
        """`sql` with each bind parameter's name prefixed, to sit beside other riders'."""
        names = "|".join(re.escape(k) for k, _ in self.types)
        return re.sub(rf":({names})\b", lambda m: f":{prefix}{m.group(1)}", self.sql)

    def alone(self) -> TextClause:
        return text(self.sql).bindparams(*self.binds())


def rider(name: str, table: str, sql: str, **types: TypeEngine[Any]) -> Rider:
    """Declare a kind of riding write (once, at import)."""
    return Rider(name, table, sql, tuple(types.items()))


def ride(session: Session, kind: Rider, values: dict[str, Any]) -> None:
    """Write `values` by `kind` in this transaction: in the audit append's statement when the
    transaction appends events in one (PostgreSQL), or alone (see the module's notes)."""
    written.note(session, kind.table)  # the ORM's events never see these statements
    if session.get_bind().dialect.name != "postgresql" or session.in_nested_transaction():
        session.execute(kind.alone(), values)
        return
    if not session.in_transaction():
        session.begin()
    riders = session.info.setdefault(_RIDERS, [])
    if any(waiting is kind for waiting, _ in riders):
        # One statement's WITHs run in no set order: rows of one kind (an outbox's, whose ids
        # order the sending) keep the order they were given in when written before this one.
        write_riders(session)
        riders = session.info.setdefault(_RIDERS, [])
    riders.append((kind, values))


def _take_riders(session: Session) -> list[tuple[Rider, dict[str, Any]]]:
    riders: list[tuple[Rider, dict[str, Any]]] = session.info.pop(_RIDERS, [])
    return riders


def write_riders(session: Session) -> None:
    """Write the riders still waiting, each alone."""
    for kind, values in _take_riders(session):
        session.execute(kind.alone(), values)


@event.listens_for(Session, "do_orm_execute")
def _write_before_touching(state: ORMExecuteState) -> None:
    riders = state.session.info.get(_RIDERS)
    if not riders or not isinstance(state.statement, ClauseElement):
        return
    touched = {t.name for t in find_tables(state.statement, include_joins=True, include_crud=True)}
    if any(kind.table in touched for kind, _ in riders):
        write_riders(state.session)


@event.listens_for(Session, "before_commit")
def _write_left(session: Session) -> None:
    # After the chains' own listener (security/chain.py, registered first), whose append takes
    # the riders along when it can; a savepoint's release waits for the real commit.
    if not session.in_nested_transaction():
        write_riders(session)


@event.listens_for(Session, "after_transaction_end")
def _forget(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop(_RIDERS, None)


# Built once for each number of events and riders' kinds: building costs more than binding.
_BUILT: dict[tuple[int, tuple[str, ...]], TextClause] = {}


def _statement(table: Table, count: int, kinds: tuple[Rider, ...] = ()) -> TextClause:
    key = (count, tuple(k.name for k in kinds))
    built = _BUILT.get(key)
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
    riding = "".join(
        f", rider{n} AS (\n    {kind.renamed(f'r{n}_')}\n)" for n, kind in enumerate(kinds, 1)
    )
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
){riding}
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
    for n, kind in enumerate(kinds, 1):
        binds += kind.binds(f"r{n}_")
    built = _BUILT[key] = text(sql).bindparams(*binds)
    return built


def append(
    session: Session,
    table: Table,
    rows: list[dict[str, Any]],
    fields: Callable[[dict[str, Any]], list[Any]],
) -> bool:
    """Chain `rows` (each: the event's fields) onto the head and insert them in one statement;
    `fields(row)` lists what `chain.digest` hashes of a row. False, with no event written, when
    the store has no head row yet (a store made without migrations: the caller starts it).
    The transaction's riders go in the same statement, and are written by it either way."""
    values: dict[str, Any] = {"chain": chain.AUDIT_CHAIN, "count": len(rows)}
    for n, row in enumerate(rows, 1):
        values.update({f"{f}{n}": row[f] for f in _FIELDS})
        values[f"tail{n}"] = chain.tail(fields(row))
    riders = _take_riders(session)
    for n, (_, rider_values) in enumerate(riders, 1):
        values.update({f"r{n}_{k}": v for k, v in rider_values.items()})
    kinds = tuple(kind for kind, _ in riders)
    written = session.execute(_statement(table, len(rows), kinds), values).all()
    if not written:
        # No head row: nothing was inserted, but the riders' writes were made all the same.
        return False
    chain.took(session, chain.AUDIT_CHAIN, max(written)[1])
    return True
