"""What connected stores already hold, brought into the ledger and kept in step with it.

A store destination's rows say what the company actually does: a row `product_news:
subscribed` means the newsletter tool mails that person. When the destination is added, and
every `IMPORT_EVERY` after, its rows are read; where a row says something other than the
ledger, the row's choice is recorded for the person (interface `import`, the destination as
source, the store's date as proof) unless a choice of the person's own stands against it:

- nothing chosen in Rightful, or the last choice itself came from a store: the row is imported;
- the person chose (any interface but `import`): the row is imported only when the store dates
  it after that choice; an undated row never beats the person;
- "no marketing at all" on the row's channel is never lifted by a store: only the person can.

A delivery to a store (store_sync.py) reads the person's rows first and imports what changed
there the same way, so Rightful never writes over a newer change made in the store.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from rightful.connectors.base import FetchRequest, Row
from rightful.consent import ledger, snapshot, subjects
from rightful.consent.catalog import ALL_MARKETING, Interface, State
from rightful.consent.destinations import EVERY_ROW, StoreTarget, store_target, target_collection
from rightful.consent.models import (
    ConsentDestination,
    ConsentEvent,
    ConsentState,
    ConsentStoreImport,
    ConsentSubject,
)
from rightful.core.clock import utcnow
from rightful.core.config import Settings
from rightful.core.errors import ConnectorError, InvalidInputError, NotFoundError
from rightful.identity import normalize
from rightful.inventory.keys import key_fields
from rightful.inventory.revision import load_map
from rightful.inventory.specs import CollectionSpec
from rightful.inventory.stores import Connectors
from rightful.security import audit

log = logging.getLogger(__name__)
IMPORT_EVERY = timedelta(minutes=10)  # how soon a change made in a store reaches the ledger
LEASE = timedelta(minutes=30)  # a worker that died mid-import leaves it to another after this
COMMIT_EVERY = 200  # people per transaction: the consent chain's lock is held until commit


@dataclass(frozen=True)
class StoreRow:
    """One row of a store, read as a choice."""

    purpose: str
    state: State
    value: Any  # as the store holds it, kept as proof
    dated: datetime | None  # when the store says it changed, if it says


@dataclass(frozen=True)
class Held:
    """The ledger's latest choice on one purpose (and the target's channel) for a person."""

    state: str
    interface: str
    made_at: datetime


@dataclass(frozen=True)
class Imported:
    """What reading a store did."""

    rows_read: int = 0
    imported: int = 0  # choices recorded
    kept: int = 0  # rows a later choice of the person's own beat (or "no marketing at all")


def date_field(target: StoreTarget, coll: CollectionSpec) -> str | None:
    """The field that dates a row: the target's `stamp_field`, else the collection's."""
    return target.stamp_field or coll.date_field


def fields_to_read(target: StoreTarget, coll: CollectionSpec) -> tuple[str, ...]:
    """The fields a sync or an import reads: enough to find each row again and to date it."""
    dated = date_field(target, coll)
    wanted = [*key_fields(coll), target.identity_field, target.match_field, target.field]
    return tuple(dict.fromkeys([*wanted, *([dated] if dated else [])]))


def _as_utc(value: Any) -> datetime | None:
    """A store's date as aware UTC; naive values are UTC, as Rightful writes them."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return None
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    return None


def read_rows(target: StoreTarget, coll: CollectionSpec, rows: Iterable[Row]) -> list[StoreRow]:
    """The rows that are about a mapped purpose and hold one of the target's values; one per
    purpose, the latest (and, undated, the stricter) where a store holds several."""
    purposes = {v: p for p, v in target.purpose_values.items() if v != EVERY_ROW}
    states = {str(v): State(s) for s, v in target.values.items()}
    dated = date_field(target, coll)
    found: dict[str, StoreRow] = {}
    for row in rows:
        purpose = purposes.get(str(row.get(target.match_field)))
        state = states.get(str(row.get(target.field)))
        if purpose is None or state is None:
            continue
        read = StoreRow(purpose, state, row.get(target.field), _as_utc(row.get(dated or "")))
        if purpose not in found or _later(read, found[purpose]):
            found[purpose] = read
    return list(found.values())


def _later(a: StoreRow, b: StoreRow) -> bool:
    oldest = datetime.min.replace(tzinfo=UTC)
    return ((a.dated or oldest), a.state == State.WITHDRAWN) > (
        (b.dated or oldest),
        b.state == State.WITHDRAWN,
    )


def verdict(row: StoreRow, held: Mapping[str, Held], purpose: snapshot.Purpose) -> bool | None:
    """Import the row (True), keep the ledger's choice against it (False), or nothing to do
    because they agree (None)."""
    mine = held.get(row.purpose)
    if row.state == (mine.state if mine else purpose.default):
        return None
    everything = held.get(ALL_MARKETING)
    if purpose.kind == "marketing" and everything and everything.state == State.WITHDRAWN:
        return False  # a store never lifts "no marketing at all"
    if mine is None:
        return True
    if mine.interface == Interface.IMPORT:
        return row.dated is None or row.dated > mine.made_at
    return row.dated is not None and row.dated > mine.made_at


def held_choices(
    session: Session, subject_ids: list[str], channel: str
) -> dict[str, dict[str, Held]]:
    """Subject id → purpose → the ledger's latest choice on `channel`."""
    found: dict[str, dict[str, Held]] = defaultdict(dict)
    for start in range(0, len(subject_ids), 500):
        stmt = (
            select(
                ConsentState.subject_id,
                ConsentState.purpose,
                ConsentState.state,
                ConsentEvent.interface,
                ConsentEvent.proof,
                ConsentEvent.at,
            )
            .join(ConsentEvent, ConsentEvent.id == ConsentState.event_id)
            .where(
                ConsentState.subject_id.in_(subject_ids[start : start + 500]),
                ConsentState.channel == channel,
            )
        )
        for r in session.execute(stmt):
            made = ledger.made_at(r.proof or {}, r.at)
            found[r.subject_id][r.purpose] = Held(r.state, r.interface, made)
    return found


def import_for(
    session: Session,
    settings: Settings,
    destination: ConsentDestination,
    person: ConsentSubject,
    rows: list[StoreRow],
) -> Imported:
    """Record what one person's rows say where they win against the ledger (flushes only)."""
    target = store_target(destination)
    known = snapshot.current(session).purposes
    held = held_choices(session, [person.id], target.channel.value).get(person.id, {})
    imported = kept = 0
    for row in rows:
        purpose = known.get(row.purpose)
        decided = verdict(row, held, purpose) if purpose else None
        kept += decided is False
        if not decided:
            continue
        proof: dict[str, Any] = {
            "source": destination.key,
            "source_name": destination.name,
            "system": target.system,
            "collection": target.collection,
            "value": row.value,
        }
        if row.dated is not None:
            proof["dated"] = row.dated.isoformat()
        choice = ledger.Choice(row.purpose, target.channel.value, row.state)
        collected = ledger.Collected(interface=Interface.IMPORT, proof=proof)
        written = ledger.record(
            session, settings, person, [choice], collected, not_to=destination.key
        )
        imported += len(written)
    return Imported(len(rows), imported, kept)


def _read_store(
    session: Session, settings: Settings, target: StoreTarget, coll: CollectionSpec
) -> list[Row]:
    values = tuple(v for v in target.purpose_values.values() if v != EVERY_ROW)
    if not values:
        return []
    request = FetchRequest(
        target.collection, fields_to_read(target, coll), ((target.match_field, values),)
    )
    with Connectors(settings, load_map(session).systems) as connectors:
        try:
            connector = connectors(target.system)
        except KeyError as exc:
            raise ConnectorError(f"System '{target.system}' is no longer in the data map") from exc
        return connector.fetch(request)


def _by_person(target: StoreTarget, rows: list[Row]) -> dict[str, list[Row]]:
    """Rows by the person's normalised address; rows without a usable one are left out."""
    grouped: dict[str, list[Row]] = defaultdict(list)
    for row in rows:
        try:
            grouped[normalize.email(str(row.get(target.identity_field) or ""))].append(row)
        except InvalidInputError:
            continue
    return grouped


def import_store(session: Session, settings: Settings, destination: ConsentDestination) -> Imported:
    """Read a store destination's rows and import what wins against the ledger; commits every
    `COMMIT_EVERY` people (a worker job)."""
    target = store_target(destination)
    coll = target_collection(session, target)
    if isinstance(coll, str):
        raise ConnectorError(coll)
    rows = _read_store(session, settings, target, coll)
    people = {e: read_rows(target, coll, r) for e, r in _by_person(target, rows).items()}
    lookups = {subjects.lookup_hash(settings, email=e): e for e in people}
    ids: dict[str, str] = {}
    hashes = list(lookups)
    for start in range(0, len(hashes), 500):
        stmt = select(ConsentSubject.lookup_hash, ConsentSubject.id).where(
            ConsentSubject.lookup_hash.in_(hashes[start : start + 500])
        )
        ids |= {lookups[h]: i for h, i in session.execute(stmt)}
    held = held_choices(session, list(ids.values()), target.channel.value)
    known = snapshot.current(session).purposes
    verdicts = {
        email: [
            verdict(r, held.get(ids.get(email, ""), {}), known[r.purpose])
            for r in mine
            if r.purpose in known
        ]
        for email, mine in people.items()
    }
    kept = sum(v.count(False) for v in verdicts.values())
    candidates = [email for email, v in verdicts.items() if True in v]
    session.commit()  # end the read; each batch below is its own transaction
    imported = 0
    for n, email in enumerate(candidates, start=1):
        # Decided again for the person alone: a choice they made meanwhile counts.
        person = subjects.person(session, settings, email)
        imported += import_for(session, settings, destination, person, people[email]).imported
        if n % COMMIT_EVERY == 0:
            session.commit()
    session.commit()
    return Imported(len(rows), imported, kept)


def _claim(session: Session, key: str) -> bool:
    # One worker wins: moving `next_run_at` past now takes the import off the others' lists,
    # and leaves it to them again if this worker dies before it finishes.
    now = utcnow()
    result = session.execute(
        update(ConsentStoreImport)
        .where(ConsentStoreImport.destination_key == key, ConsentStoreImport.next_run_at <= now)
        .values(next_run_at=now + LEASE)
        .execution_options(synchronize_session=False)
    )
    session.commit()
    return bool(result.rowcount)  # type: ignore[attr-defined]


def _finish(session: Session, key: str, done: Imported | None, error: str | None) -> None:
    row = session.get(ConsentStoreImport, key, populate_existing=True)
    if row is None:
        return
    now = utcnow()
    row.next_run_at, row.last_run_at, row.last_error = now + IMPORT_EVERY, now, error
    if done is not None:
        row.rows_read, row.imported, row.kept = done.rows_read, done.imported, done.kept
    if done is not None and done.imported:
        audit.record(
            session,
            actor="system",
            action="consent.store_imported",
            subject_type="consent_destination",
            subject_id=key,
            detail={"rows_read": done.rows_read, "imported": done.imported, "kept": done.kept},
        )
    session.commit()


def _due_now(session: Session, key: str) -> None:
    """Make one store's import due now, whatever its turn."""
    destination = session.get(ConsentDestination, key)
    if destination is None or destination.kind != "store" or not destination.active:
        raise NotFoundError(f"There is no active store destination '{key}'.")
    row = session.get(ConsentStoreImport, key) or ConsentStoreImport(
        destination_key=key, rows_read=0, imported=0, kept=0
    )
    row.next_run_at = utcnow()
    session.add(row)
    session.flush()


def import_due(session: Session, settings: Settings, *, key: str | None = None) -> int:
    """Import from every active store destination whose turn has come (or from `key` now),
    committing as it goes (a worker job); returns the choices imported."""
    if key is not None:
        _due_now(session, key)
    due = list(
        session.scalars(
            select(ConsentStoreImport.destination_key)
            .join(ConsentDestination, ConsentDestination.key == ConsentStoreImport.destination_key)
            .where(
                ConsentDestination.active.is_(True),
                ConsentDestination.kind == "store",
                ConsentStoreImport.next_run_at <= utcnow(),
            )
            .order_by(ConsentStoreImport.destination_key)
        )
    )
    session.commit()  # end the read, so SQLite lets the claims below write
    total = 0
    for due_key in due:
        if key is not None and due_key != key:
            continue
        if not _claim(session, due_key):
            continue  # another worker has it
        destination = session.get(ConsentDestination, due_key)
        assert destination is not None
        try:
            done = import_store(session, settings, destination)
        except Exception as exc:
            # One store's failure must not stop the others, nor the deliveries after them.
            session.rollback()
            log.exception("importing from store destination %s failed", due_key)
            _finish(session, due_key, None, type(exc).__name__)
            continue
        _finish(session, due_key, done, None)
        total += done.imported
    return total


def schedules(session: Session) -> list[ConsentStoreImport]:
    """Every store's import schedule and last outcome, by destination."""
    stmt = select(ConsentStoreImport).order_by(ConsentStoreImport.destination_key)
    return list(session.scalars(stmt))
