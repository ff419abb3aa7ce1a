"""What is true now: a subject's choices, with each purpose's default where none was made."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import Select, bindparam, exists, false, literal, or_, select
from sqlalchemy.orm import Session

from rightful.consent import catalog, snapshot
from rightful.consent.catalog import Channel, State
from rightful.consent.models import (
    ConsentEvent,
    ConsentState,
    ConsentSubject,
    MarketingSuppression,
    Suppression,
)
from rightful.consent.snapshot import Purpose


@dataclass(frozen=True)
class Current:
    """One purpose on one channel, as it stands."""

    purpose: str
    channel: str
    state: str
    explicit: bool  # False: nobody chose; this is the purpose's default
    since: datetime | None
    event_uid: str | None
    interface: str | None = None  # where the choice was made (None: the default)
    proof: Mapping[str, Any] | None = None  # e.g. the store an imported choice came from


@dataclass(frozen=True)
class Decision:
    """Whether something may be done, and why."""

    allowed: bool
    state: str
    reason: str


def _explicit(session: Session, subject_ids: list[str]) -> dict[tuple[str, str], list[str]]:
    """(purpose, channel) → the explicit states of the given subjects."""
    found: dict[tuple[str, str], list[str]] = {}
    if not subject_ids:
        return found
    rows = session.execute(
        select(ConsentState.purpose, ConsentState.channel, ConsentState.state).where(
            ConsentState.subject_id.in_(subject_ids)
        )
    )
    for purpose, channel, state in rows:
        found.setdefault((purpose, channel), []).append(state)
    return found


@dataclass(frozen=True)
class Looked:
    """What a check read, in one statement."""

    revision: int | None  # the catalogue's (consent/snapshot.py)
    subject_id: str | None  # None: nobody known by that name
    person_id: str | None  # a device's or number's person, whose choices count too
    explicit: dict[tuple[str, str], list[str]]  # as `_explicit`, for the subject's family
    suppressed: bool  # the address is on the suppression list, for all marketing or the topic


@cache
def _look_up_statement(by_id: bool, listed: bool) -> Select[Any]:
    """The check's one statement, built once per shape (plain tables and bound parameters, so
    each call only binds values: building it anew costs more than running it)."""
    subject = ConsentSubject.__table__.alias("subject")
    states = ConsentState.__table__
    columns: list[Any] = [snapshot.revision_column().label("revision")]
    if listed:
        marketing, erased = MarketingSuppression.__table__, Suppression.__table__
        on_list = exists().where(
            marketing.c.email_sha256 == bindparam("digest"),
            or_(marketing.c.topic == "*", marketing.c.topic == bindparam("topic")),
        )
        gone = exists().where(erased.c.identity_hash == bindparam("erased"))
        columns.append(or_(on_list, gone).label("suppressed"))
    else:
        columns.append(false().label("suppressed"))
    match = subject.c.id if by_id else subject.c.lookup_hash
    return (
        select(
            *columns,
            subject.c.id,
            subject.c.person_id,
            states.c.purpose,
            states.c.channel,
            states.c.state,
        )
        .select_from(select(literal(1).label("one")).subquery("one"))
        .outerjoin(subject, match == bindparam("subject"))
        .outerjoin(states, states.c.subject_id.in_([subject.c.id, subject.c.person_id]))
    )


def look_up(
    session: Session,
    *,
    lookup_hash: str | None = None,
    subject_id: str | None = None,
    suppression: tuple[str, str, str] | None = None,
) -> Looked:
    """The subject (by keyed lookup hash or id), every explicit state of it and of its person,
    the catalogue's revision and, given (SHA-256 of the address, topic, keyed hash of the address),
    whether the address is suppressed: all in one statement."""
    params = {"subject": subject_id or lookup_hash or ""}  # "": no such lookup hash
    if suppression is not None:
        params |= dict(zip(("digest", "topic", "erased"), suppression, strict=True))
    stmt = _look_up_statement(bool(subject_id), suppression is not None)
    rows = session.execute(stmt, params).all()
    revision, suppressed, found, person = rows[0][:4]  # the outer joins always leave one row
    explicit: dict[tuple[str, str], list[str]] = {}
    for *_, purpose, channel, state in rows:
        if purpose is not None:
            explicit.setdefault((purpose, channel), []).append(state)
    return Looked(revision, found, person, explicit, bool(suppressed))


def _family(subject: ConsentSubject | None) -> list[str]:
    """A device's choices and its person's both count; the stricter wins."""
    if subject is None:
        return []
    return [subject.id, subject.person_id] if subject.person_id else [subject.id]


def current(session: Session, subject: ConsentSubject | None) -> list[Current]:
    """Every purpose on every channel, in catalogue order."""
    rows = {}
    if subject is not None:
        # Columns, not ORM rows: the ledger writes states with plain statements, so an ORM
        # row held in this session would not show a choice recorded after it was loaded.
        stmt = (
            select(
                ConsentState.purpose,
                ConsentState.channel,
                ConsentState.state,
                ConsentState.updated_at,
                ConsentEvent.uid,
                ConsentEvent.interface,
                ConsentEvent.proof,
            )
            .join(ConsentEvent, ConsentEvent.id == ConsentState.event_id)
            .where(ConsentState.subject_id == subject.id)
        )
        rows = {(r.purpose, r.channel): r for r in session.execute(stmt)}
    result = []
    for purpose in snapshot.current(session).purposes.values():
        for channel in purpose.channels:
            found = rows.get((purpose.key, channel))
            if found:
                result.append(
                    Current(
                        purpose.key,
                        channel,
                        found.state,
                        True,
                        found.updated_at,
                        found.uid,
                        found.interface,
                        found.proof or {},
                    )
                )
            else:
                result.append(Current(purpose.key, channel, purpose.default, False, None, None))
    return result


def family_states(
    session: Session, subject: ConsentSubject
) -> tuple[frozenset[tuple[str, str]], dict[tuple[str, str], list[str]]]:
    """In one read: the (purpose, channel) pairs this subject chose itself, and the explicit
    states of it and its person as `decide_from` takes them."""
    own: set[tuple[str, str]] = set()
    found: dict[tuple[str, str], list[str]] = {}
    rows = session.execute(
        select(
            ConsentState.subject_id, ConsentState.purpose, ConsentState.channel, ConsentState.state
        ).where(ConsentState.subject_id.in_(_family(subject)))
    )
    for subject_id, purpose, channel, state in rows:
        found.setdefault((purpose, channel), []).append(state)
        if subject_id == subject.id:
            own.add((purpose, channel))
    return frozenset(own), found


def decide(
    session: Session, subject: ConsentSubject | None, purpose: Purpose, channel: str
) -> Decision:
    """May `purpose` be used on `channel` for this subject (None: nobody known)?"""
    return decide_from(_explicit(session, _family(subject)), purpose, channel)


def decide_from(
    explicit: Mapping[tuple[str, str], list[str]], purpose: Purpose, channel: str
) -> Decision:
    """The decision from a subject's explicit states ((purpose, channel) → the states of the
    subject and, for a device, of its person), without asking the database."""

    def state_of(key: str, ch: str, default: str) -> tuple[str, bool]:
        states = explicit.get((key, ch))
        if not states:
            return default, False
        return (State.WITHDRAWN.value if State.WITHDRAWN in states else State.GIVEN.value), True

    if purpose.kind == "marketing" and purpose.key != catalog.ALL_MARKETING:
        everything, _ = state_of(catalog.ALL_MARKETING, channel, State.GIVEN.value)
        if everything == State.WITHDRAWN:
            return Decision(False, everything, "unsubscribed from all marketing on this channel")
    if channel != Channel.ALL and purpose.kind in ("advertising", "sale_share"):
        channel = Channel.ALL
    state, chosen = state_of(purpose.key, channel, purpose.default)
    if state == State.GIVEN:
        return Decision(True, state, "consent given" if chosen else "default: allowed")
    return Decision(False, state, "consent withdrawn" if chosen else "default: not allowed")
