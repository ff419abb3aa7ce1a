"""Hash chains: each row hashes the one before, so an edit anywhere shows.

Several chains (the audit log, the consent ledger) keep their last hash in one row each of
`audit_chain_head`. Updating that row takes its lock (a row lock on PostgreSQL, the write lock
on SQLite) until commit, so concurrent writers never chain onto the same hash. Later rows of the
same transaction reuse the tip; each head is written back once, just before commit, unless its
writer wrote it within a statement of its own (`unwritten`; the audit log's insert on PostgreSQL).
Writers queue for the lock, so a writer takes it as late as it can (consent/appending.py).

A chain may also be written late (`queue`, the audit log): its rows wait in the session and are
chained and inserted together just before commit, so the lock is held for the commit's round
trips only. A statement that reads or writes their table first appends them, so the transaction
always sees its own rows. Savepoints that may be rolled back go through `savepoint`; commit only
with every savepoint closed.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Table, Update, bindparam, event, update
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction
from sqlalchemy.sql.elements import ClauseElement
from sqlalchemy.sql.util import find_tables

from rightful.security.models import AuditChainHead

GENESIS = "0" * 64
AUDIT_CHAIN = 1
CONSENT_CHAIN = 2
_PENDING = "hash_chains"
_QUEUED = "hash_chain_rows"
Appender = Callable[[Session, list[dict[str, Any]]], None]
# Chains written late: the table their rows go to, and what chains and inserts them.
_LATE: dict[int, tuple[Table, Appender]] = {}
# Built once: each append sends them, and building a statement costs more than binding values.
_HEADS = AuditChainHead.metadata.tables[AuditChainHead.__tablename__]
_LOCK = (
    update(_HEADS)
    .where(_HEADS.c.id == bindparam("chain"))
    .values(events=_HEADS.c.events)
    .returning(_HEADS.c.last_hash)
)
_WRITE = (
    update(_HEADS)
    .where(_HEADS.c.id == bindparam("chain"))
    .values(last_hash=bindparam("last"), events=_HEADS.c.events + bindparam("count"))
)


def digest(prev_hash: str, fields: list[Any]) -> str:
    """SHA-256 over the previous hash and a row's fields, in a stable JSON form."""
    body = json.dumps([prev_hash, *fields], sort_keys=True, default=str)
    return hashlib.sha256(body.encode()).hexdigest()


def tail(fields: list[Any]) -> str:
    """What follows '["' + the previous hash + '", ' in `digest`'s body: the fields' JSON
    without its opening bracket (ASCII: JSON escapes the rest), for a store that hashes."""
    return json.dumps(fields, sort_keys=True, default=str)[1:]


def tip(session: Session, chain: int) -> str:
    """The hash to chain the next row onto, taking the head row's lock on first use."""
    tips: dict[int, dict[str, Any]] = session.info.setdefault(_PENDING, {})
    current = tips.get(chain)
    if current is None:
        prev = session.scalar(_LOCK, {"chain": chain})
        if prev is None:  # a store created without migrations (tests): start the chain
            session.add(AuditChainHead(id=chain, events=0, last_hash=GENESIS))
            session.flush()
        current = tips[chain] = {"last": prev or GENESIS, "count": 0}
    return str(current["last"])


def holds(session: Session, chain: int) -> bool:
    """Whether this transaction already holds the chain's head (its lock and tip)."""
    return chain in session.info.get(_PENDING, {})


def took(session: Session, chain: int, last_hash: str) -> None:
    """Note that a statement of the caller's own locked the head and wrote it back ending in
    `last_hash` (the audit log's single-statement append on PostgreSQL): later rows of the
    transaction chain onto it under the lock, as after `tip`."""
    session.info.setdefault(_PENDING, {})[chain] = {"last": last_hash, "count": 0}


def advance(session: Session, chain: int, new_hash: str) -> None:
    """Record that a row with `new_hash` now ends the chain (written back at commit)."""
    current = session.info[_PENDING][chain]
    current["last"], current["count"] = new_hash, current["count"] + 1


def head_write() -> Update:
    """The statement that writes a head back (parameters `chain`, `last`, `count`), for a caller
    that writes it within a statement of its own (see `unwritten`)."""
    return _WRITE


def unwritten(session: Session, chain: int) -> tuple[str, int]:
    """The chain's last hash and how many rows it gained since its head was last written; a
    caller that writes the head itself then calls `head_written`."""
    current = session.info[_PENDING][chain]
    return str(current["last"]), int(current["count"])


def head_written(session: Session, chain: int) -> None:
    """Note that the head now holds `unwritten`: nothing is left to write at commit, unless
    more rows follow. The head row stays locked until commit all the same."""
    session.info[_PENDING][chain]["count"] = 0


def written_late(chain: int, table: Table, appender: Appender) -> None:
    """Register a chain whose rows are `queue`d and handed to `appender` (which takes the tip,
    hashes them in order and inserts them) together, just before commit."""
    _LATE[chain] = (table, appender)


def queue(session: Session, chain: int, row: dict[str, Any]) -> None:
    """Add a row to a late-written chain; it is chained and inserted with the transaction's
    others, in the order queued."""
    if not session.in_transaction():  # so that a rollback before any statement forgets it
        session.begin()
    queued: dict[int, list[dict[str, Any]]] = session.info.setdefault(_QUEUED, {})
    queued.setdefault(chain, []).append(row)


def append_queued(session: Session) -> None:
    """Chain and insert the rows queued so far (before commit, or before a statement that
    touches their table)."""
    queued: dict[int, list[dict[str, Any]]] = session.info.pop(_QUEUED, {})
    for chain, rows in queued.items():  # a new list each time: `savepoint` keeps the old one
        if rows:
            _LATE[chain][1](session, rows)


@contextmanager
def savepoint(session: Session) -> Iterator[None]:
    """A SAVEPOINT whose rollback also takes back the chain rows appended or queued inside it,
    so later rows chain onto the last row kept. Take each chain's tip before the first one: its
    lock must outlive the savepoints."""
    kept = copy.deepcopy(session.info.get(_PENDING, {}))
    # Queued rows only ever grow a list in place (appending them starts a new one): a length
    # is enough to take back the savepoint's, without copying a large batch's every time.
    lists = session.info.get(_QUEUED, {})
    lengths = {chain: (rows, len(rows)) for chain, rows in lists.items()}
    try:
        with session.begin_nested():
            yield
    except BaseException:
        session.info[_PENDING] = kept
        session.info[_QUEUED] = {chain: rows[:n] for chain, (rows, n) in lengths.items()}
        raise


@event.listens_for(Session, "do_orm_execute")
def _append_before_reading(state: ORMExecuteState) -> None:
    queued = state.session.info.get(_QUEUED)
    if not queued or not isinstance(state.statement, ClauseElement):
        return
    names = _tables_of(state.statement)
    if any(rows and _LATE[chain][0].name in names for chain, rows in queued.items()):
        append_queued(state.session)


_SEEN: dict[Any, frozenset[str]] = {}


def _tables_of(statement: ClauseElement) -> frozenset[str]:
    # Walking a statement costs about a third of building it; its cache key is worked out for
    # execution anyway (and kept on the statement), so each shape is walked once a process.
    cache_key = statement._generate_cache_key()
    if cache_key is not None and (known := _SEEN.get(cache_key.key)) is not None:
        return known
    names = frozenset(t.name for t in find_tables(statement, include_joins=True, include_crud=True))
    if cache_key is not None:
        if len(_SEEN) > 5000:  # shapes are few; this only bounds a pathological caller
            _SEEN.clear()
        _SEEN[cache_key.key] = names
    return names


@event.listens_for(Session, "before_commit")
def _write_heads(session: Session) -> None:
    # A savepoint's release fires this too: the rows and heads wait for the real commit, so a
    # savepoint rolled back later (or failing in its own flush) cannot take them with it.
    if session.in_nested_transaction():
        return
    append_queued(session)
    for chain, current in session.info.pop(_PENDING, {}).items():
        if current["count"]:  # zero: written already (head_written), or nothing appended
            session.execute(
                _WRITE, {"chain": chain, "last": current["last"], "count": current["count"]}
            )


@event.listens_for(Session, "after_transaction_end")
def _forget_heads(session: Session, transaction: SessionTransaction) -> None:
    # Only the whole transaction's end (commit, rollback or close) forgets: a savepoint rolled
    # back leaves what came before it, and `savepoint` takes back what came inside it.
    if transaction.parent is None:
        session.info.pop(_PENDING, None)
        session.info.pop(_QUEUED, None)
