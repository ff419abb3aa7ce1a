"""The consent ledger: every choice appended, sequenced into a signed log, and the current
state derived.

A choice that repeats the person's current explicit choice is not written again, so replays
(a mail client re-posting an unsubscribe, a page sending GPC on every load) do no harm.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import bindparam, delete, literal, select
from sqlalchemy.orm import Session

from rightful.consent import appending, catalog, change_feed, log_check, propagation, snapshot
from rightful.consent.catalog import Channel, Interface, State
from rightful.consent.models import (
    ConsentEvent,
    ConsentState,
    ConsentSubject,
)
from rightful.core.clock import utcnow
from rightful.core.config import Settings
from rightful.core.errors import InvalidInputError
from rightful.security.chain_check import Verdict


@dataclass(frozen=True)
class Choice:
    """One purpose on one channel, given or withdrawn."""

    purpose: str
    channel: str
    state: State


def no_marketing() -> list[Choice]:
    """All marketing withdrawn on every channel (list removal, an erased person)."""
    return [Choice(catalog.ALL_MARKETING, ch, State.WITHDRAWN) for ch in catalog.MARKETING_CHANNELS]


@dataclass(frozen=True)
class Collected:
    """How the choices were collected: the proof half of a consent record."""

    interface: Interface
    jurisdiction: str | None = None
    notice_version: str | None = None
    proof: dict[str, Any] = field(default_factory=dict)
    actor: str | None = None


# Proof fields that say when a choice was made, when that is before it was recorded: the date a
# connected store gave an imported choice, or when a browser's choice carried to its person
# was made on the browser.
MADE_AT_PROOF = ("dated", "chosen_at")


def made_at(proof: dict[str, Any], at: datetime) -> datetime:
    """When a recorded choice was made: its proof's date when it carries one, else `at`."""
    for key in MADE_AT_PROOF:
        value = proof.get(key)
        if isinstance(value, str):
            try:
                made = datetime.fromisoformat(value)
            except ValueError:
                continue
            return made if made.tzinfo else made.replace(tzinfo=UTC)
    return at


def kinds_of(known: snapshot.Catalogue, choices: list[Choice]) -> dict[str, str]:
    """Each chosen purpose's kind; a clear error for anything that cannot be chosen."""
    kinds = {}
    for c in choices:
        kinds[c.purpose] = known.checked(c.purpose, c.channel).kind
        if c.purpose == catalog.STRICTLY_NECESSARY and c.state == State.WITHDRAWN:
            raise InvalidInputError(
                "Strictly necessary cookies cannot be switched off; the site needs them to work.",
                errors=[{"field": "purpose", "message": "Not a choice."}],
            )
    return kinds


def checked_kinds(
    session: Session, choices: list[Choice]
) -> tuple[snapshot.Catalogue, dict[str, str]]:
    """The catalogue the choices were checked with and each chosen purpose's kind, or a clear
    error: this process's copy first, read again when it lacks a purpose (perhaps added since)."""
    try:
        known = snapshot.last_known(session)
        return known, kinds_of(known, choices)
    except InvalidInputError:
        known = snapshot.current(session)
        return known, kinds_of(known, choices)


_EXPLICIT = (
    select(
        snapshot.revision_column(),
        ConsentState.__table__.c.purpose,
        ConsentState.__table__.c.channel,
        ConsentState.__table__.c.state,
    )
    .select_from(select(literal(1).label("one")).subquery("one"))
    .outerjoin(
        ConsentState.__table__, ConsentState.__table__.c.subject_id == bindparam("subject_id")
    )
)


def _explicit(session: Session, subject_id: str) -> tuple[int | None, dict[tuple[str, str], str]]:
    """The catalogue's revision and the subject's explicit states, in one statement."""
    rows = session.execute(_EXPLICIT, {"subject_id": subject_id}).all()
    states = {(p, ch): state for _, p, ch, state in rows if p is not None}
    return rows[0][0], states


def record(
    session: Session,
    settings: Settings,
    subject: ConsentSubject,
    choices: list[Choice],
    collected: Collected,
    *,
    not_to: str | None = None,
) -> list[ConsentEvent]:
    """Append the choices that change something; returns the events written (flushes only).
    `not_to` names a destination not told of them: the store they were imported from.

    The events, the current state and the suppression list change together (appending.py); no
    writer waits for another: the sequencer gives the events their place in the log later."""
    if not choices:
        raise InvalidInputError(
            "Send at least one choice.", errors=[{"field": "choices", "message": "Empty."}]
        )
    known, kinds = checked_kinds(session, choices)
    revision, current = _explicit(session, subject.id)
    confirmed = snapshot.at(session, revision)
    if confirmed is not known:
        kinds = kinds_of(confirmed, choices)
    now = utcnow()
    written: list[ConsentEvent] = []
    for c in choices:
        if current.get((c.purpose, c.channel)) == c.state.value:
            continue
        current[(c.purpose, c.channel)] = c.state.value
        written.append(
            ConsentEvent(
                uid=uuid.uuid4().hex,
                subject_id=subject.id,
                purpose=c.purpose,
                channel=c.channel,
                state=c.state.value,
                interface=collected.interface.value,
                notice_version=collected.notice_version or settings.notice_version,
                jurisdiction=collected.jurisdiction or settings.default_jurisdiction,
                proof=collected.proof,
                actor=collected.actor,
                at=now,
            )
        )
    if written:
        announce = change_feed.wanted(session, settings)
        appending.append(session, subject, written, kinds, announce=announce)
        routes = [r for r in confirmed.routes if r.key != not_to]
        propagation.enqueue(session, written, routes)
    return written


def honour_gpc(
    session: Session,
    settings: Settings,
    subject: ConsentSubject,
    *,
    jurisdiction: str | None = None,
    source: str = "Sec-GPC",
) -> list[ConsentEvent]:
    """A Global Privacy Control signal: opt the browser, and the person it belongs to, out of
    sale/share and targeting, without asking."""
    catalog.ensure_built_in(session)
    collected = Collected(
        interface=Interface.GPC, jurisdiction=jurisdiction, proof={"signal": source}
    )
    choices = [
        Choice(purpose, channel, State.WITHDRAWN)
        for purpose, channel in catalog.GPC_OPT_OUTS
        if purpose != "cookies.targeting" or subject.kind == "device"
    ]
    known = snapshot.current(session)
    choices = [c for c in choices if _offered(known, c)]
    events = record(session, settings, subject, choices, collected)
    if subject.kind == "device" and subject.person_id:
        person = session.get(ConsentSubject, subject.person_id)
        if person is not None:
            person_choices = [c for c in choices if c.channel == Channel.ALL]
            events += record(session, settings, person, person_choices, collected)
    return events


def _offered(known: snapshot.Catalogue, choice: Choice) -> bool:
    try:
        known.checked(choice.purpose, choice.channel)
    except InvalidInputError:
        return False
    return True


def history(session: Session, subject_id: str, *, limit: int = 500) -> list[ConsentEvent]:
    """A subject's choices, newest first."""
    stmt = (
        select(ConsentEvent)
        .where(ConsentEvent.subject_id == subject_id)
        .order_by(ConsentEvent.id.desc())
        .limit(limit)
    )
    return list(session.scalars(stmt))


def verify(session: Session, settings: Settings | None = None) -> Verdict:
    """The whole log held to its signed tree heads: intact, or the first problem and where."""
    return log_check.verify(session, settings)


def rebuild_states(session: Session) -> int:
    """Derive the current state again from the ledger alone; returns how many states."""
    change_feed.announce(session, change_feed.EVERYTHING)
    session.execute(delete(ConsentState))
    latest: dict[tuple[str, str, str], ConsentEvent] = {}
    stmt = select(ConsentEvent).order_by(ConsentEvent.id).execution_options(yield_per=2000)
    for row in session.scalars(stmt):
        latest[(row.subject_id, row.purpose, row.channel)] = row
    for (subject_id, purpose, channel), row in latest.items():
        session.add(
            ConsentState(
                subject_id=subject_id,
                purpose=purpose,
                channel=channel,
                state=row.state,
                event_id=row.id,
                updated_at=row.at,
            )
        )
    session.flush()
    return len(latest)
