"""Writing a person's choices into a connected store: their rows brought in line with the ledger.

A delivery writes the person's choices as they stand when it runs, not just the one change it
carries, so deliveries may arrive out of order, twice, or after a crash and still end right.
Only explicit choices are written: a row nobody chose about in Rightful is left as it is, so
nobody is ever subscribed by a default. Before writing, what changed in the store since the
ledger last heard of it is imported (store_import.py), so a newer change made there is never
written over. Rows are found by the collection's key, or without one by the person's address,
the row's topic and its current value (inventory/keys.py).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from rightful.connectors.base import Connector, FetchRequest, Row, RowChange, total
from rightful.consent import catalog, store_import, subjects
from rightful.consent.catalog import State
from rightful.consent.destinations import EVERY_ROW, StoreTarget, store_target, target_collection
from rightful.consent.models import ConsentDestination, ConsentState, ConsentSubject
from rightful.core.clock import utcnow
from rightful.core.config import Settings
from rightful.core.errors import ConnectorError
from rightful.inventory.keys import locate
from rightful.inventory.revision import load_map
from rightful.inventory.specs import CollectionSpec
from rightful.inventory.stores import Connectors

# Enough for a choice made while we wrote (see `sync_person`); more would mean a person
# clicking faster than we can write, and the next delivery settles that anyway.
SETTLE_ROUNDS = 3


def _explicit(session: Session, subject_id: str, channel: str) -> dict[str, str]:
    """Purpose → the person's own explicit state on the channel."""
    rows = session.execute(
        select(ConsentState.purpose, ConsentState.state).where(
            ConsentState.subject_id == subject_id, ConsentState.channel == channel
        )
    )
    return {purpose: state for purpose, state in rows}


def _state_for(
    purpose: str | None, target: StoreTarget, explicit: dict[str, str], kinds: dict[str, str]
) -> State | None:
    """What a row about `purpose` (None: a row no purpose maps) should say; None: leave it."""
    every = [p for p, v in target.purpose_values.items() if v == EVERY_ROW]
    if any(explicit.get(p) == State.WITHDRAWN for p in every):
        return State.WITHDRAWN
    if purpose is None:
        return None
    everything = explicit.get(catalog.ALL_MARKETING)
    if kinds.get(purpose) == "marketing" and everything == State.WITHDRAWN:
        return State.WITHDRAWN  # "no marketing at all" overrides each topic, as in state.decide
    found = explicit.get(purpose)
    return State(found) if found else None


def _changes(
    target: StoreTarget,
    coll: CollectionSpec,
    rows: list[Row],
    states: dict[str | None, State | None],
) -> list[RowChange]:
    by_value = {v: p for p, v in target.purpose_values.items() if v != EVERY_ROW}
    extra: dict[str, object] = dict(target.also)
    if target.stamp_field:
        # Naive UTC, as the store's own timestamps are kept: an aware value could be shifted
        # by a database session's time zone.
        extra[target.stamp_field] = utcnow().replace(tzinfo=None)
    out = []
    for row in rows:
        state = states.get(by_value.get(str(row.get(target.match_field))))
        value = target.values.get(state) if state else None
        if value is None or row.get(target.field) == value:
            continue
        # Without a key, the person's rows about this topic that still hold the old value.
        where = locate(
            coll, row, found_by=[target.identity_field], changing=[target.match_field, target.field]
        )
        if where is not None:
            out.append(RowChange(target.collection, where, {target.field: value, **extra}))
    return out


def _collection(session: Session, target: StoreTarget) -> CollectionSpec:
    coll = target_collection(session, target)
    if isinstance(coll, str):
        raise ConnectorError(f"{target.system}.{target.collection}: {coll}")
    return coll


def _sync_round(
    session: Session,
    settings: Settings,
    connector: Connector,
    destination: ConsentDestination,
    person: ConsentSubject,
    email: str,
) -> tuple[int, dict[str, str]]:
    """One pass: import what changed in the store since, then write the person's choices;
    returns rows changed and the choices it wrote from."""
    target = store_target(destination)
    coll = _collection(session, target)
    rows = connector.fetch(
        FetchRequest(
            target.collection,
            store_import.fields_to_read(target, coll),
            ((target.identity_field, (email,)),),
        )
    )
    store_import.import_for(
        session, settings, destination, person, store_import.read_rows(target, coll, rows)
    )
    explicit = _explicit(session, person.id, target.channel)
    kinds = {p.key: p.kind for p in catalog.purposes(session)}
    purposes: list[str | None] = [*target.purpose_values, None]
    states = {p: _state_for(p, target, explicit, kinds) for p in purposes}
    return total(connector.apply(_changes(target, coll, rows, states))), explicit


def sync_person(
    session: Session, settings: Settings, destination: ConsentDestination, subject: ConsentSubject
) -> int:
    """Bring the person's rows in the destination's store in line; returns rows changed.

    Ends the session's transaction between rounds (a worker job's session, nothing pending):
    a choice committed while we wrote is only visible to a new transaction, and is written by
    another round, so two workers syncing the same person cannot leave the older state behind.
    """
    email = subjects.email_of(settings, subject)
    if subject.kind != "person" or email is None:
        return 0  # a browser or device has no rows to match in a store
    target = store_target(destination)
    changed = 0
    with Connectors(settings, load_map(session).systems) as connectors:
        try:
            connector = connectors(target.system)
        except KeyError as exc:
            raise ConnectorError(f"System '{target.system}' is no longer in the data map") from exc
        for _ in range(SETTLE_ROUNDS):
            count, written_from = _sync_round(
                session, settings, connector, destination, subject, email
            )
            changed += count
            session.commit()
            if _explicit(session, subject.id, target.channel) == written_from:
                break
    return changed
