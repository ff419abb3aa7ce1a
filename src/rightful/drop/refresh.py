"""Keeping the DROP index current between cycles without rebuilding it (docs/drop.md, "The
index between cycles").

Each collection's entries fall into 65,536 buckets by their hash, and each bucket keeps the
count and a digest (a sum of the entries' 64-bit BLAKE2b digests) of what it holds. A refresh
reads the collection once, computes the buckets' digests as they are now, and rewrites only the
buckets that differ: people added, changed (their new hash in, the old one out) or erased since.
What was read is kept in a temporary table meanwhile, so those buckets are written from it, not
read again. No watermark is needed, so a store without an "updated at" column, and rows
deleted outright, are followed as well.

The first build, and any build after the data map changed (other collections or fields),
writes everything at once, as before.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    Column,
    Integer,
    MetaData,
    String,
    Table,
    delete,
    func,
    insert,
    select,
    text,
)
from sqlalchemy.orm import Session

from rightful.core.clock import utcnow
from rightful.core.config import Settings
from rightful.drop.bulk import analyze, insert_rows
from rightful.drop.index import Indexable, Scan, Scanner, collection_entries, coverage
from rightful.drop.models import DropCycle, DropIndexBucket, DropIndexEntry, DropIndexState
from rightful.inventory.revision import load_map
from rightful.inventory.stores import Connectors

STALE_AFTER = timedelta(days=1)  # the worker refreshes it daily while DROP is in use
_MOD = 1 << 64
WRITE_CHUNK = 1000
Tally = dict[int, tuple[int, int]]  # bucket -> (entries, digest)


def _digest(entry: dict[str, Any]) -> int:
    text_ = f"{entry['list_type']}\x1f{entry['hash']}\x1f{entry['row_key']}"
    return int.from_bytes(hashlib.blake2b(text_.encode(), digest_size=8).digest(), "big")


def _add(tally: Tally, batch: Iterable[dict[str, Any]]) -> None:
    for entry in batch:
        count, total = tally.get(entry["bucket"], (0, 0))
        tally[entry["bucket"]] = (count + 1, (total + _digest(entry)) % _MOD)


def _signed(value: int) -> int:
    return value - _MOD if value >= 1 << 63 else value


def _stored(session: Session, address: str) -> Tally:
    rows = session.execute(
        select(DropIndexBucket.bucket, DropIndexBucket.entries, DropIndexBucket.digest).where(
            DropIndexBucket.address == address
        )
    )
    return {bucket: (count, digest % _MOD) for bucket, count, digest in rows}


def _write_buckets(session: Session, address: str, tally: Tally) -> None:
    rows = [
        {"address": address, "bucket": b, "entries": n, "digest": _signed(d)}
        for b, (n, d) in tally.items()
    ]
    insert_rows(session, DropIndexBucket.__table__, rows)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Refreshed:
    """What one refresh did: built anew or not, rows read, entries held and written."""

    full: bool
    rows: int
    entries: int
    rewritten: int


def _build_all(
    session: Session, items: list[Indexable], connectors: Connectors, revision: int
) -> Refreshed:
    """Write every collection's entries anew (the first build, or the data map changed)."""
    postgres = session.connection().dialect.name == "postgresql"
    if postgres:  # emptied at once, and its indexes built once after the load, not row by row
        session.execute(text("TRUNCATE drop_index, drop_index_buckets, drop_index_state"))
        session.execute(text("DROP INDEX ix_drop_index_hash"))
        session.execute(text("DROP INDEX ix_drop_index_bucket"))
    else:
        for model in (DropIndexEntry, DropIndexBucket, DropIndexState):
            session.execute(delete(model))
    now, rows, entries = utcnow(), 0, 0
    for item in items:
        scanner: Scanner = connectors(item.system)  # type: ignore[assignment]
        scan, tally = Scan(), Tally()
        for batch in collection_entries(scanner, item, scan):
            insert_rows(session, DropIndexEntry.__table__, batch)  # type: ignore[arg-type]
            _add(tally, batch)
        count = sum(n for n, _ in tally.values())
        _write_buckets(session, item.collection.address, tally)
        session.add(
            DropIndexState(
                address=item.collection.address,
                system=item.system,
                rows=scan.rows,
                entries=count,
                revision=revision,
                built_at=now,
                refreshed_at=now,
                rewritten=count,
            )
        )
        rows, entries = rows + scan.rows, entries + count
    if postgres:
        session.execute(text("CREATE INDEX ix_drop_index_hash ON drop_index (list_type, hash)"))
        session.execute(text("CREATE INDEX ix_drop_index_bucket ON drop_index (address, bucket)"))
    return Refreshed(True, rows, entries, entries)


# Where a refresh keeps what it read of one collection, so the buckets that changed are
# written from it rather than read from the store a second time. Temporary: no log, no index.
_SCAN = Table(
    "drop_index_scan",
    MetaData(),
    Column("list_type", String(10)),
    Column("hash", String(44)),
    Column("system", String(100)),
    Column("address", String(250)),
    Column("row_key", String(200)),
    Column("bucket", Integer),
    prefixes=["TEMPORARY"],
)
_COLUMNS = ("list_type", "hash", "system", "address", "row_key", "bucket")


def _refresh_one(
    session: Session, item: Indexable, scanner: Scanner, state: DropIndexState
) -> tuple[int, int]:
    """Rewrite the buckets of one collection that changed; returns (rows read, rewritten)."""
    address = item.collection.address
    scan, now = Scan(), Tally()
    connection = session.connection()
    _SCAN.create(connection, checkfirst=True)
    session.execute(delete(_SCAN))
    for batch in collection_entries(scanner, item, scan):
        insert_rows(session, _SCAN, batch)
        _add(now, batch)
    before = _stored(session, address)
    changed = sorted(b for b in before.keys() | now.keys() if before.get(b) != now.get(b))
    entry = DropIndexEntry.__table__
    for start in range(0, len(changed), WRITE_CHUNK):
        part = changed[start : start + WRITE_CHUNK]
        for model in (DropIndexEntry, DropIndexBucket):
            session.execute(delete(model).where(model.address == address, model.bucket.in_(part)))
        read = select(*(_SCAN.c[c] for c in _COLUMNS)).where(_SCAN.c.bucket.in_(part))
        session.execute(insert(entry).from_select(_COLUMNS, read))  # type: ignore[arg-type]
    _write_buckets(session, address, {b: now[b] for b in changed if b in now})
    _SCAN.drop(connection)
    rewritten = sum(now[b][0] for b in changed if b in now)
    state.rows, state.refreshed_at, state.rewritten = scan.rows, utcnow(), rewritten
    state.entries = sum(n for n, _ in now.values())
    return scan.rows, rewritten


def refresh(session: Session, settings: Settings, *, full: bool = False) -> Refreshed:
    """Bring the index up to the stores (flushes; the caller commits): rebuilt when asked, when
    never built or when the data map changed since; otherwise only what changed is rewritten.
    Two refreshes never run at once on PostgreSQL (the state table is locked first)."""
    if session.connection().dialect.name == "postgresql":
        session.execute(text("LOCK TABLE drop_index_state IN SHARE ROW EXCLUSIVE MODE"))
    cover = coverage(session, settings)
    data_map = load_map(session)
    states = {s.address: s for s in session.scalars(select(DropIndexState))}
    addresses = {item.collection.address for item in cover.indexed}
    rebuild = (
        full
        or set(states) != addresses
        or any(s.revision != data_map.revision for s in states.values())
    )
    with Connectors(settings, data_map.systems) as connectors:
        if rebuild:
            for state in states.values():  # emptied below without the session seeing it
                session.expunge(state)
            done = _build_all(session, cover.indexed, connectors, data_map.revision)
        else:
            rows = rewritten = 0
            for item in cover.indexed:
                scanner: Scanner = connectors(item.system)  # type: ignore[assignment]
                read, wrote = _refresh_one(session, item, scanner, states[item.collection.address])
                rows, rewritten = rows + read, rewritten + wrote
            entries = sum(s.entries for s in states.values())
            done = Refreshed(False, rows, entries, rewritten)
    analyze(session, DropIndexEntry.__table__)  # type: ignore[arg-type]
    session.flush()
    return done


@dataclass(frozen=True)
class IndexStatus:
    """The index as staff see it: when built and refreshed, its size, and whether it is stale."""

    built_at: datetime | None
    refreshed_at: datetime | None
    rows: int
    entries: int
    collections: int
    rewritten: int
    stale: bool
    why_stale: str | None


def index_status(session: Session, *, now: datetime | None = None) -> IndexStatus:
    """What `rightful drop status` and /admin/drop show of the index (counts and dates only)."""
    now = now or utcnow()
    states = list(session.scalars(select(DropIndexState)))
    if not states:
        return IndexStatus(None, None, 0, 0, 0, 0, True, "never built")
    revision = load_map(session).revision
    built = min(s.built_at for s in states)
    refreshed = min(s.refreshed_at for s in states)
    why = (
        "the data map changed since"
        if any(s.revision != revision for s in states)
        else "not refreshed for a day"
        if refreshed < now - STALE_AFTER
        else None
    )
    return IndexStatus(
        built_at=built,
        refreshed_at=refreshed,
        rows=sum(s.rows for s in states),
        entries=sum(s.entries for s in states),
        collections=len(states),
        rewritten=sum(s.rewritten for s in states),
        stale=why is not None,
        why_stale=why,
    )


def refresh_if_due(session: Session, settings: Settings) -> Refreshed | None:
    """The worker's daily refresh while DROP is in use (commits), so the index stays current
    between cycles and the next import has little to rewrite; None when not due."""
    in_use = (
        settings.drop_registered
        or settings.drop_api_enabled
        or session.scalar(select(DropCycle.id).limit(1)) is not None
    )
    last = session.scalar(select(func.min(DropIndexState.refreshed_at)))
    if not in_use or (last is not None and last > utcnow() - STALE_AFTER):
        session.rollback()
        return None
    done = refresh(session, settings)
    session.commit()
    return done
