"""A person's consent record once their personal information has been erased.

The record of what they chose is kept: it is the proof that consent was given or withdrawn and
that opt-outs were honoured, which the law asks a company to show. What goes is the address
itself (its sealed copy); the keyed lookup hash and the SHA-256 stay, so their opt-outs keep
working and marketing senders that still hold the address in a backup find it suppressed.
Every marketing channel is withdrawn as well: a deleted person is not marketed to again until
they come back and choose otherwise, which seals their address afresh. Phone numbers linked to
them are treated alike: texts withdrawn, the sealed number dropped.

A batch of erased people costs a fixed number of statements, whatever their number: their
subjects found (and made for those never seen) together, their numbers and states read in one
statement each, every event written by one append (consent/appending.py), the sealed values
dropped by one update each.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, bindparam, literal, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from rightful.consent import appending, catalog, change_feed, ledger, propagation, snapshot
from rightful.consent.banner_writes import _Plan
from rightful.consent.catalog import Channel, Interface, State
from rightful.consent.models import ConsentState, ConsentSubject
from rightful.consent.subjects import email_sha256, person_lookup
from rightful.core.clock import utcnow
from rightful.core.config import Settings
from rightful.core.db import Base
from rightful.core.errors import InvalidInputError
from rightful.identity import normalize

_SUBJECTS = Base.metadata.tables[ConsentSubject.__tablename__]
_STATES = Base.metadata.tables[ConsentState.__tablename__]
# The catalogue's revision and the subjects' explicit states, in one statement.
_EXPLICIT = (
    select(
        snapshot.revision_column(),
        _STATES.c.subject_id,
        _STATES.c.purpose,
        _STATES.c.channel,
        _STATES.c.state,
    )
    .select_from(select(literal(1).label("one")).subquery("one"))
    .outerjoin(_STATES, _STATES.c.subject_id.in_(bindparam("ids", expanding=True)))
)
_TEXTS = [ledger.Choice(catalog.ALL_MARKETING, Channel.SMS, State.WITHDRAWN)]


@dataclass(frozen=True)
class Erased:
    """A person whose data a deletion request erased."""

    email: str
    jurisdiction: str
    reference: str  # the request's, kept as the proof of why marketing was withdrawn


def after_erasure(
    session: Session, settings: Settings, *, email: str, jurisdiction: str, reference: str
) -> int:
    """Withdraw all marketing and forget the sealed address; safe to run again (a re-run records
    nothing). Returns the number of choices recorded."""
    return after_erasures(session, settings, [Erased(email, jurisdiction, reference)])


def after_erasures(session: Session, settings: Settings, people: list[Erased]) -> int:
    """`after_erasure` for many people at once (flushes only); returns the choices recorded."""
    if not people:
        return 0
    persons, numbers = _persons(session, settings, [p.email for p in people])
    subjects = [*persons.values(), *(n for mine in numbers.values() for n in mine)]
    kinds, known, states = _read(session, [s.id for s in subjects])
    plan = _Plan(settings, states, utcnow())
    for p in people:  # in order: each person's own choices, then their numbers'
        person = persons[normalize.email(p.email)]
        collected = ledger.Collected(
            interface=Interface.RIGHTS_REQUEST,
            jurisdiction=p.jurisdiction,
            proof={"request": p.reference, "reason": "personal information deleted"},
        )
        plan.add(person, ledger.no_marketing(), collected)
        for number in numbers[person.id]:
            plan.add(number, _TEXTS, collected)
    _forget(session, [s for s in subjects if s.sealed_email or s.sealed_phone])
    if plan.events:
        announce = change_feed.wanted(session, settings)
        appending.append_many(session, [(s, [e]) for s, e in plan.events], kinds, announce=announce)
        propagation.enqueue(session, [e for _, e in plan.events], known.routes)
    session.flush()
    return len(plan.events)


def _persons(
    session: Session, settings: Settings, emails: list[str]
) -> tuple[dict[str, ConsentSubject], dict[str, list[ConsentSubject]]]:
    """Each address's person, by normalised address, and the phone numbers linked to each, by
    person id: one read, and for people never seen, one insert and a read of what it made
    (their address is not sealed: it would go at once)."""
    lookups = {person_lookup(settings, e): e for e in dict.fromkeys(map(normalize.email, emails))}
    found, numbers = _with_numbers(session, list(lookups))
    missing = [h for h in lookups if h not in found]
    if missing:
        now = utcnow()
        rows: list[dict[str, Any]] = [
            {c.key: None for c in _SUBJECTS.columns}
            | {
                "id": uuid.uuid4().hex,
                "kind": "person",
                "lookup_hash": h,
                "email_sha256": email_sha256(lookups[h]),
                "created_at": now,
            }
            for h in missing
        ]
        insert = sqlite_insert if session.get_bind().dialect.name == "sqlite" else pg_insert
        session.execute(insert(_SUBJECTS).values(rows).on_conflict_do_nothing())
        made, _ = _with_numbers(session, missing)  # made here, or by another writer just now
        found |= made
    persons = {lookups[h]: subject for h, subject in found.items()}
    return persons, {p.id: numbers.get(p.id, []) for p in persons.values()}


def _with_numbers(
    session: Session, lookups: list[str]
) -> tuple[dict[str, ConsentSubject], dict[str, list[ConsentSubject]]]:
    """The people with these lookup hashes, and their linked phone numbers: one read."""
    ids = select(ConsentSubject.id).where(ConsentSubject.lookup_hash.in_(lookups))
    found: dict[str, ConsentSubject] = {}
    numbers: dict[str, list[ConsentSubject]] = {}
    for subject in session.scalars(
        select(ConsentSubject).where(
            or_(
                ConsentSubject.lookup_hash.in_(lookups),
                and_(ConsentSubject.kind == "phone", ConsentSubject.person_id.in_(ids)),
            )
        )
    ):
        if subject.kind == "phone" and subject.person_id:
            numbers.setdefault(subject.person_id, []).append(subject)
        else:
            found[subject.lookup_hash] = subject
    return found, numbers


def _read(
    session: Session, ids: list[str]
) -> tuple[dict[str, str], snapshot.Catalogue, dict[str, dict[tuple[str, str], str]]]:
    """Each purpose's kind, the catalogue confirmed current and the subjects' explicit states:
    one statement (the built-in purposes added first on a store that has none yet)."""
    rows = session.execute(_EXPLICIT, {"ids": ids}).all()
    known = snapshot.at(session, rows[0][0])
    try:
        ledger.kinds_of(known, [*ledger.no_marketing(), *_TEXTS])
    except InvalidInputError:  # a store with no catalogue applied yet
        catalog.ensure_built_in(session)
        known = snapshot.current(session)
        ledger.kinds_of(known, [*ledger.no_marketing(), *_TEXTS])
    states: dict[str, dict[tuple[str, str], str]] = {i: {} for i in ids}
    for _, subject_id, purpose, channel, state in rows:
        if purpose is not None:
            states[subject_id][(purpose, channel)] = state
    return {k: p.kind for k, p in known.purposes.items()}, known, states


def _forget(session: Session, subjects: list[ConsentSubject]) -> None:
    """Drop the sealed address and numbers: one update each, the loaded subjects kept in step."""
    people = [s.id for s in subjects if s.kind == "person"]
    numbers = [s.id for s in subjects if s.kind == "phone"]
    for ids, values in ((people, {"sealed_email": None}), (numbers, {"sealed_phone": None})):
        if ids:
            session.execute(
                update(ConsentSubject).where(ConsentSubject.id.in_(ids)).values(**values),
                execution_options={"synchronize_session": "evaluate"},
            )


__all__ = ["Erased", "after_erasure", "after_erasures"]
