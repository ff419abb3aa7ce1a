"""Writing a person's choices into a connected store: their rows brought in line with the ledger.

A delivery writes the person's choices as they stand when it runs, not just the one change it
carries, so deliveries may arrive out of order, twice, or after a crash and still end right.
Only explicit choices are written: a row nobody chose about in Rightful is left as it is, so
nobody is ever subscribed by a default.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from rightful.connectors.base import Connector, FetchRequest, Row, RowChange, total
from rightful.consent import catalog, subjects
from rightful.consent.catalog import State
from rightful.consent.destinations import EVERY_ROW, StoreTarget, store_target
from rightful.consent.models import ConsentDestination, ConsentState, ConsentSubject
from rightful.core.clock import utcnow
from rightful.core.config import Settings
from rightful.core.errors import ConnectorError
from rightful.inventory.revision import load_map
from rightful.rights.stores import Connectors

# Enough for a choice made while we wrote (see `sync_person`); more would mean a person
# clicking faster than we can write, and the next delivery settles that anyway.
SETTLE_ROUNDS = 3


@dataclass(frozen=True)
class _Person:
    subject_id: str
    email: str


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
    target: StoreTarget, key_field: str, rows: list[Row], states: dict[str | None, State | None]
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
        out.append(
            RowChange.by_key(
                target.collection, key_field, row[key_field], {target.field: value, **extra}
            )
        )
    return out


def _key_field(session: Session, target: StoreTarget) -> str:
    data_map = load_map(session)
    system = data_map.systems.get(target.system)
    for dataset in data_map.datasets:
        if system is None or dataset.key not in system.dataset_keys:
            continue
        for coll in dataset.collections:
            keys = [f.name for f in coll.fields if f.primary_key]
            if coll.name == target.collection and keys:
                return keys[0]
    raise ConnectorError(f"{target.system}.{target.collection} is no longer in the data map")


def _sync_round(
    session: Session, connector: Connector, target: StoreTarget, key_field: str, person: _Person
) -> tuple[int, dict[str, str]]:
    """One read-and-write pass; returns rows changed and the choices it wrote from."""
    explicit = _explicit(session, person.subject_id, target.channel)
    kinds = {p.key: p.kind for p in catalog.purposes(session)}
    purposes: list[str | None] = [*target.purpose_values, None]
    states = {p: _state_for(p, target, explicit, kinds) for p in purposes}
    rows = connector.fetch(
        FetchRequest(
            target.collection,
            (key_field, target.match_field, target.field),
            ((target.identity_field, (person.email,)),),
        )
    )
    return total(connector.apply(_changes(target, key_field, rows, states))), explicit


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
    key_field = _key_field(session, target)
    person = _Person(subject.id, email)
    changed = 0
    with Connectors(settings, load_map(session).systems) as connectors:
        try:
            connector = connectors(target.system)
        except KeyError as exc:
            raise ConnectorError(f"System '{target.system}' is no longer in the data map") from exc
        for _ in range(SETTLE_ROUNDS):
            count, written_from = _sync_round(session, connector, target, key_field, person)
            changed += count
            session.commit()
            if _explicit(session, subject.id, target.channel) == written_from:
                break
    return changed
