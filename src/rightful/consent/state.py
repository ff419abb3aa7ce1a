"""What is true now: a subject's choices, with each purpose's default where none was made."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from rightful.consent import catalog
from rightful.consent.catalog import Channel, State
from rightful.consent.models import ConsentEvent, ConsentPurpose, ConsentState, ConsentSubject


@dataclass(frozen=True)
class Current:
    """One purpose on one channel, as it stands."""

    purpose: str
    channel: str
    state: str
    explicit: bool  # False: nobody chose; this is the purpose's default
    since: datetime | None
    event_uid: str | None


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


def _family(subject: ConsentSubject | None) -> list[str]:
    """A device's choices and its person's both count; the stricter wins."""
    if subject is None:
        return []
    return [subject.id, subject.person_id] if subject.person_id else [subject.id]


def current(session: Session, subject: ConsentSubject | None) -> list[Current]:
    """Every purpose on every channel, in catalogue order."""
    rows = {}
    if subject is not None:
        stmt = (
            select(ConsentState, ConsentEvent.uid)
            .join(ConsentEvent, ConsentEvent.id == ConsentState.event_id)
            .where(ConsentState.subject_id == subject.id)
        )
        rows = {(s.purpose, s.channel): (s, uid) for s, uid in session.execute(stmt)}
    result = []
    for purpose in catalog.purposes(session):
        for channel in purpose.channels:
            found = rows.get((purpose.key, channel))
            if found:
                s, uid = found
                result.append(Current(purpose.key, channel, s.state, True, s.updated_at, uid))
            else:
                result.append(Current(purpose.key, channel, purpose.default, False, None, None))
    return result


def decide(
    session: Session, subject: ConsentSubject | None, purpose: ConsentPurpose, channel: str
) -> Decision:
    """May `purpose` be used on `channel` for this subject (None: nobody known)?"""
    explicit = _explicit(session, _family(subject))

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
