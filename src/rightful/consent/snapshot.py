"""The consent catalogue as requests read it: purposes and active destinations, cached per
process behind a revision.

Any change to `consent_purposes` or `consent_destinations` made through a session (the ORM, or
an ORM-enabled insert, update or delete) sets a new random revision in the same transaction:
row 2 of `data_map_revision` (row 1 counts the data map). Checks and the ledger read that
revision inside a statement they send anyway, so a change committed through any process is
seen by the very next request of every process, for no extra statement; the catalogue is read
again (two statements) only when the revision moved. A change made with plain SQL outside
Rightful must call `bump` (or restart the processes) to be seen.

The revision is random rather than a counter, so a store dropped and created again at the same
address, or a change rolled back, can never be mistaken for the catalogue a process holds; a
session that changed the catalogue reads it afresh and never caches what it has not committed.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from threading import Lock
from typing import Any

from sqlalchemy import ScalarSelect, case, event, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction

from rightful.consent import change_feed
from rightful.consent.models import ConsentDestination, ConsentPurpose
from rightful.core.errors import InvalidInputError
from rightful.inventory.models import DataMapRevision

CATALOGUE_ROW = 2  # the row of data_map_revision that counts consent catalogue changes
_CHANGED = "consent_catalogue_changed"  # session.info: this transaction changed the catalogue
_TABLES = frozenset({ConsentPurpose.__tablename__, ConsentDestination.__tablename__})


@dataclass(frozen=True)
class Purpose:
    """One purpose, as plain values (never an ORM row, so processes can share it)."""

    key: str
    kind: str
    title: str
    description: str
    channels: tuple[str, ...]
    default: str
    data_use: str | None
    position: int
    cookie_names: tuple[str, ...]


@dataclass(frozen=True)
class Route:
    """An active destination, as far as deciding which changes it is told of."""

    key: str
    purposes: tuple[str, ...]  # empty: every purpose
    channels: tuple[str, ...]  # empty: every channel

    def wants(self, purpose: str, channel: str) -> bool:
        """Whether this destination is told of a change to `purpose` on `channel`."""
        if self.purposes and purpose not in self.purposes:
            return False
        return not self.channels or channel in self.channels


@dataclass(frozen=True)
class Catalogue:
    """Every purpose and active destination at one revision."""

    revision: int
    purposes: Mapping[str, Purpose]  # in display order
    routes: tuple[Route, ...]

    def checked(self, purpose: str, channel: str) -> Purpose:
        """The purpose, when `channel` is one of its channels; otherwise a clear error."""
        found = self.purposes.get(purpose)
        if found is None:
            known = ", ".join(self.purposes)
            raise _invalid(f"There is no purpose '{purpose}'. Known purposes: {known}.", "purpose")
        if channel not in found.channels:
            raise _invalid(
                f"Purpose '{purpose}' is not offered on '{channel}'; "
                f"its channels are {', '.join(found.channels)}.",
                "channel",
            )
        return found


def _invalid(message: str, field: str) -> InvalidInputError:
    return InvalidInputError(message, errors=[{"field": field, "message": message}])


_cache: dict[str, Catalogue] = {}
_lock = Lock()


def revision_column() -> ScalarSelect[int]:
    """The catalogue's revision as a column, to add to a statement sent anyway (NULL: never
    changed through Rightful)."""
    counters = DataMapRevision.__table__
    return select(counters.c.revision).where(counters.c.id == CATALOGUE_ROW).scalar_subquery()


def _key(session: Session) -> str:
    return str(session.get_bind().engine.url)


def held_for(engine: Engine) -> Catalogue | None:
    """The catalogue this process last read for the engine's store (None: none yet), without
    asking the database or opening a session: for answers given from memory alone."""
    with _lock:
        return _cache.get(str(engine.url))


def route_of(destination: ConsentDestination) -> Route:
    """A destination row as a route (for a replay to one destination)."""
    channels = destination.target.get("channels") or []
    return Route(destination.key, tuple(destination.purposes), tuple(channels))


def _read(session: Session, revision: int) -> Catalogue:
    columns = (
        ConsentPurpose.key,
        ConsentPurpose.kind,
        ConsentPurpose.title,
        ConsentPurpose.description,
        ConsentPurpose.channels,
        ConsentPurpose.default,
        ConsentPurpose.data_use,
        ConsentPurpose.position,
        ConsentPurpose.cookie_names,
    )
    rows = session.execute(
        select(*columns).order_by(ConsentPurpose.position, ConsentPurpose.key)
    ).all()
    purposes = {
        r.key: Purpose(
            r.key,
            r.kind,
            r.title,
            r.description,
            tuple(r.channels),
            r.default,
            r.data_use,
            r.position,
            tuple(str(c) for c in r.cookie_names),
        )
        for r in rows
    }
    active = session.execute(
        select(ConsentDestination.key, ConsentDestination.purposes, ConsentDestination.target)
        .where(ConsentDestination.active.is_(True))
        .order_by(ConsentDestination.key)
    ).all()
    routes = tuple(
        Route(key, tuple(wanted), tuple(target.get("channels") or []))
        for key, wanted, target in active
    )
    return Catalogue(revision, purposes, routes)


def at(session: Session, revision: int | None) -> Catalogue:
    """The catalogue at `revision` (as just read in this session): the cached one when it is
    the same, else read again and cached."""
    revision = revision or 0
    key = _key(session)
    with _lock:
        held = _cache.get(key)
    changed_here = session.info.get(_CHANGED, False)
    if held is not None and held.revision == revision and revision and not changed_here:
        return held
    fresh = _read(session, revision)
    if revision and not changed_here:  # never cache what this transaction has not committed
        with _lock:
            _cache[key] = fresh
    return fresh


def current(session: Session) -> Catalogue:
    """The catalogue as it stands: one statement when this process already holds it."""
    return at(session, session.scalar(select(revision_column())))


def last_known(session: Session) -> Catalogue:
    """The catalogue this process last read for this store, without asking the database; the
    caller confirms it with `revision_column()` in its own statement (see `at`)."""
    with _lock:
        held = _cache.get(_key(session))
    if held is None or session.info.get(_CHANGED, False):
        return current(session)
    return held


def held_revision(session: Session) -> int | None:
    """The revision of the catalogue this process holds for the store (None: none), without
    asking the database."""
    with _lock:
        held = _cache.get(_key(session))
    return None if held is None or session.info.get(_CHANGED, False) else held.revision


def bump(session: Session) -> None:
    """Mark the catalogue changed, in the caller's transaction."""
    session.info[_CHANGED] = True
    new = secrets.randbelow(2**31 - 2) + 1
    other = new % (2**31 - 2) + 1  # used when `new` happens to be the revision already there
    insert = sqlite_insert if session.get_bind().dialect.name == "sqlite" else pg_insert
    stmt = insert(DataMapRevision).values(id=CATALOGUE_ROW, revision=new)
    stmt = stmt.on_conflict_do_update(
        index_elements=[DataMapRevision.id],
        set_={"revision": case((DataMapRevision.revision == new, other), else_=new)},
    )
    session.connection().execute(stmt)
    change_feed.announce(session, change_feed.EVERYTHING)


@event.listens_for(Session, "before_flush")
def _bump_on_flush(session: Session, _flush: UOWTransaction, _instances: Any) -> None:
    touched = (*session.new, *session.dirty, *session.deleted)
    if any(isinstance(obj, (ConsentPurpose, ConsentDestination)) for obj in touched):
        bump(session)


@event.listens_for(Session, "do_orm_execute")
def _bump_on_statement(state: ORMExecuteState) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        table = getattr(state.statement, "table", None)
        if getattr(table, "name", None) in _TABLES:
            bump(state.session)


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
def _forget_change(session: Session) -> None:
    session.info.pop(_CHANGED, None)
