"""The consent ledger: every choice appended, hash-chained, and the current state derived.

A choice that repeats the person's current explicit choice is not written again, so replays
(a mail client re-posting an unsubscribe, a page sending GPC on every load) do no harm.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from rightful.consent import catalog, propagation
from rightful.consent.catalog import Channel, Interface, State
from rightful.consent.models import (
    ConsentEvent,
    ConsentState,
    ConsentSubject,
    MarketingSuppression,
)
from rightful.core.clock import utcnow
from rightful.core.config import Settings
from rightful.core.errors import InvalidInputError
from rightful.security import chain


@dataclass(frozen=True)
class Choice:
    """One purpose on one channel, given or withdrawn."""

    purpose: str
    channel: str
    state: State


@dataclass(frozen=True)
class Collected:
    """How the choices were collected: the proof half of a consent record."""

    interface: Interface
    jurisdiction: str | None = None
    notice_version: str | None = None
    proof: dict[str, Any] = field(default_factory=dict)
    actor: str | None = None


def _digest(prev_hash: str, e: ConsentEvent) -> str:
    return chain.digest(
        prev_hash,
        [
            e.uid,
            e.subject_id,
            e.purpose,
            e.channel,
            e.state,
            e.interface,
            e.notice_version,
            e.jurisdiction,
            e.proof,
            e.actor,
            e.at.isoformat(),
        ],
    )


def _explicit(session: Session, subject_id: str) -> dict[tuple[str, str], ConsentState]:
    rows = session.scalars(select(ConsentState).where(ConsentState.subject_id == subject_id))
    return {(r.purpose, r.channel): r for r in rows}


def _suppress(session: Session, subject: ConsentSubject, event: ConsentEvent, kind: str) -> None:
    """Keep the e-mail suppression list in step with marketing choices on e-mail."""
    if not subject.email_sha256 or kind != "marketing" or event.channel != Channel.EMAIL:
        return
    topic = "*" if event.purpose == catalog.ALL_MARKETING else event.purpose
    row = session.get(MarketingSuppression, (subject.email_sha256, topic))
    if event.state == State.WITHDRAWN and row is None:
        session.add(
            MarketingSuppression(
                email_sha256=subject.email_sha256,
                topic=topic,
                reason=event.interface,
                since=event.at,
            )
        )
    elif event.state == State.GIVEN and row is not None:
        session.delete(row)


def record(
    session: Session,
    settings: Settings,
    subject: ConsentSubject,
    choices: list[Choice],
    collected: Collected,
) -> list[ConsentEvent]:
    """Append the choices that change something; returns the events written (flushes only)."""
    if not choices:
        raise InvalidInputError(
            "Send at least one choice.", errors=[{"field": "choices", "message": "Empty."}]
        )
    kinds = {}
    for c in choices:
        kinds[c.purpose] = catalog.checked(session, c.purpose, c.channel).kind
        if c.purpose == catalog.STRICTLY_NECESSARY and c.state == State.WITHDRAWN:
            raise InvalidInputError(
                "Strictly necessary cookies cannot be switched off; the site needs them to work.",
                errors=[{"field": "purpose", "message": "Not a choice."}],
            )
    current = _explicit(session, subject.id)
    written: list[ConsentEvent] = []
    now = utcnow()
    for c in choices:
        existing = current.get((c.purpose, c.channel))
        if existing is not None and existing.state == c.state.value:
            continue
        event = ConsentEvent(
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
            prev_hash=chain.tip(session, chain.CONSENT_CHAIN),
        )
        event.hash = _digest(event.prev_hash, event)
        session.add(event)
        session.flush()
        chain.advance(session, chain.CONSENT_CHAIN, event.hash)
        if existing is None:
            existing = ConsentState(subject_id=subject.id, purpose=c.purpose, channel=c.channel)
            session.add(existing)
            current[(c.purpose, c.channel)] = existing
        existing.state, existing.event_id, existing.updated_at = c.state.value, event.id, now
        _suppress(session, subject, event, kinds[c.purpose])
        written.append(event)
    session.flush()
    propagation.enqueue(session, written)
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
    choices = [c for c in choices if _offered(session, c)]
    events = record(session, settings, subject, choices, collected)
    if subject.kind == "device" and subject.person_id:
        person = session.get(ConsentSubject, subject.person_id)
        if person is not None:
            person_choices = [c for c in choices if c.channel == Channel.ALL]
            events += record(session, settings, person, person_choices, collected)
    return events


def _offered(session: Session, choice: Choice) -> bool:
    try:
        catalog.checked(session, choice.purpose, choice.channel)
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


def verify(session: Session) -> int | None:
    """The id of the first event whose hash does not hold, or None when the ledger is intact."""
    prev = chain.GENESIS
    stmt = select(ConsentEvent).order_by(ConsentEvent.id).execution_options(yield_per=2000)
    with session.scalars(stmt) as rows:  # closes the server-side cursor on an early return
        for row in rows:
            if row.prev_hash != prev or _digest(prev, row) != row.hash:
                return row.id
            prev = row.hash
    return None


def rebuild_states(session: Session) -> int:
    """Derive the current state again from the ledger alone; returns how many states."""
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
