"""The data map as requests read it: a snapshot per revision, cached per process.

Every change to the data map bumps one counter; a transaction reads the counter once (one
statement) and re-reads datasets, systems and taxonomy only when it moved. Within a transaction
the map it read first is kept (execution asks for it several times); a bump in the same
transaction drops it.
"""

from __future__ import annotations

from dataclasses import dataclass
from threading import Lock
from typing import Any

from sqlalchemy import ScalarSelect, event, select, update
from sqlalchemy.orm import Session, SessionTransaction

from rightful.connectors import registry
from rightful.inventory.models import DataMapRevision, Dataset, System, TaxonomyEntry
from rightful.inventory.specs import CollectionSpec, DatasetSpec, dataset_from_document


@dataclass(frozen=True)
class SystemView:
    """What execution needs of a system, as plain values (never an ORM row)."""

    key: str
    name: str
    connection_type: str | None
    connection_secret: str | None
    dataset_keys: tuple[str, ...]
    # A kind people handle (`manual`): requests give its owner tasks instead of calls.
    by_hand: bool = False
    owner: str | None = None


@dataclass(frozen=True)
class DataMap:
    """The parts of the data map a request needs."""

    revision: int
    datasets: tuple[DatasetSpec, ...]
    systems: dict[str, SystemView]
    category_names: dict[str, str]

    @property
    def system_by_dataset(self) -> dict[str, SystemView]:
        """Dataset key → the system that holds it."""
        return {k: s for s in self.systems.values() for k in s.dataset_keys}

    @property
    def system_of(self) -> dict[str, str]:
        """Dataset key → key of a system Rightful reaches itself: what requests plan over.
        Systems handled by hand are left out; their owners get manual tasks."""
        return {k: s.key for k, s in self.system_by_dataset.items() if not s.by_hand}

    @property
    def every_system_of(self) -> dict[str, str]:
        """Dataset key → system key, systems handled by hand included."""
        return {k: s.key for k, s in self.system_by_dataset.items()}

    @property
    def collections(self) -> dict[str, CollectionSpec]:
        """Every collection by `dataset:collection`."""
        return {c.address: c for d in self.datasets for c in d.collections}


_cache: dict[str, DataMap] = {}
_lock = Lock()
_HELD = "data_map"  # session.info: the map this transaction read


_SEEN = "data_map_revision"  # session.info: the revision a statement of the caller's read


@event.listens_for(Session, "after_transaction_end")
def _let_go(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop(_HELD, None)
        session.info.pop(_SEEN, None)


def revision_column() -> ScalarSelect[Any]:
    """The revision as a column, for a statement the caller sends anyway (`saw_revision`)."""
    return select(DataMapRevision.revision).where(DataMapRevision.id == 1).scalar_subquery()


def saw_revision(session: Session, revision: int | None) -> None:
    """Note the revision a statement of this transaction read (`revision_column`): `load_map`
    then takes it instead of reading it again."""
    session.info[_SEEN] = revision or 0


def bump_revision(session: Session) -> None:
    """Mark the data map changed (inside the caller's transaction)."""
    session.info.pop(_HELD, None)
    session.info.pop(_SEEN, None)
    result = session.execute(
        update(DataMapRevision)
        .where(DataMapRevision.id == 1)
        .values(revision=DataMapRevision.revision + 1)
    )
    if not result.rowcount:  # type: ignore[attr-defined]
        session.add(DataMapRevision(id=1, revision=2))
        session.flush()


def _read(session: Session, revision: int) -> DataMap:
    datasets = tuple(
        dataset_from_document(d.document, source_file=d.source_file)
        for d in session.scalars(select(Dataset).order_by(Dataset.key))
    )
    systems = {
        s.key: SystemView(
            s.key,
            s.name,
            s.connection_type,
            s.connection_secret,
            tuple(s.dataset_keys),
            by_hand=registry.by_hand(s.connection_type),
            owner=s.owner,
        )
        for s in session.scalars(select(System))
    }
    names = session.execute(
        select(TaxonomyEntry.key, TaxonomyEntry.name).where(TaxonomyEntry.kind == "data_category")
    )
    return DataMap(revision, datasets, systems, {key: name for key, name in names})


def load_map(session: Session) -> DataMap:
    """The current data map: one statement when this process already holds its revision, none
    when this transaction has read it already (or its revision, `saw_revision`)."""
    held: DataMap | None = session.info.get(_HELD)
    if held is not None and session.in_transaction():
        return held
    seen: int | None = session.info.get(_SEEN) if session.in_transaction() else None
    if seen is None:
        seen = session.scalar(select(DataMapRevision.revision).where(DataMapRevision.id == 1))
    revision = seen or 0
    bind = str(session.get_bind().engine.url)
    with _lock:
        cached = _cache.get(bind)
    if cached is not None and cached.revision == revision and revision:
        session.info[_HELD] = cached
        return cached
    fresh = _read(session, revision)
    with _lock:
        _cache[bind] = fresh
    session.info[_HELD] = fresh
    return fresh
