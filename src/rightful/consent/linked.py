"""A browser or phone number linked to its person, and the choices that come with it.

A browser's choices belong to the person once it is linked to them (signing in to the preference
center in it), as a number's do once a site or CRM says whose it is. Which choice counts:

- The latest explicit choice wins across the person's own choices and those of their linked
  browsers and numbers: an opt-out made on a browser (Reject all, Global Privacy Control) before
  it was linked is recorded for the person at the link, unless the person chose otherwise
  since; after the link, the banner records opt-outs for the person at once (banner.py).
- A yes on a browser counts for that browser only. It never turns back on, for the person,
  something they switched off: opting back in to the sale or sharing of personal information
  takes the preference center's two steps (CCPA regulations, 11 CCR § 7028(a)).
- Cookie categories stay with the browser that chose them: cookies live in one browser.
- Checks by a browser or number take the stricter of its own choices and its person's
  (state.py).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from rightful.consent import ledger, subjects
from rightful.consent.catalog import Channel, Interface, State
from rightful.consent.models import ConsentEvent, ConsentState, ConsentSubject
from rightful.core.config import Settings
from rightful.core.errors import InvalidInputError

# What a linked subject's choices can say about its person: a browser, the choices that apply
# everywhere (sale/share, targeted advertising); a number, marketing by text.
CARRIED = {"device": Channel.ALL.value, "phone": Channel.SMS.value}


def _latest(session: Session, subject_id: str, channel: str) -> dict[str, ConsentEvent]:
    """Purpose → the subject's latest event on `channel`."""
    stmt = (
        select(ConsentState.purpose, ConsentEvent)
        .join(ConsentEvent, ConsentEvent.id == ConsentState.event_id)
        .where(ConsentState.subject_id == subject_id, ConsentState.channel == channel)
    )
    return {purpose: event for purpose, event in session.execute(stmt)}


def carry_over(
    session: Session, settings: Settings, subject: ConsentSubject, person: ConsentSubject, via: str
) -> list[ConsentEvent]:
    """Record for the person the linked subject's opt-outs that are later than the person's own
    choice on them (flushes only); returns the events written."""
    channel = CARRIED.get(subject.kind)
    if channel is None:
        return []
    mine = _latest(session, person.id, channel)
    written: list[ConsentEvent] = []
    for purpose, event in _latest(session, subject.id, channel).items():
        if event.state != State.WITHDRAWN:
            continue  # a yes on one browser or number does not undo what the person refused
        theirs = mine.get(purpose)
        chosen = ledger.made_at(event.proof or {}, event.at)
        if theirs is not None and (
            theirs.state == event.state or ledger.made_at(theirs.proof or {}, theirs.at) > chosen
        ):
            continue
        proof = {
            **(event.proof or {}),
            subject.kind: subject.id,  # its pseudonymous subject id: never the cookie or number
            "event": event.uid,
            "chosen_at": chosen.isoformat(),
            "linked_by": via,
        }
        collected = ledger.Collected(
            interface=Interface(event.interface),
            jurisdiction=event.jurisdiction,
            notice_version=event.notice_version,
            proof=proof,
        )
        choice = ledger.Choice(purpose, channel, State.WITHDRAWN)
        written += ledger.record(session, settings, person, [choice], collected)
    return written


def link(
    session: Session, settings: Settings, subject: ConsentSubject, person: ConsentSubject, via: str
) -> list[ConsentEvent]:
    """Link a browser or number to its person and carry its opt-outs over (flushes only)."""
    subjects.link_to_person(session, subject, person.id)
    return carry_over(session, settings, subject, person, via)


def link_browser(
    session: Session, settings: Settings, device_id: str | None, person: ConsentSubject, via: str
) -> list[ConsentEvent]:
    """Link the browser with consent.js's id `device_id` (if a valid one) to the person."""
    if not device_id:
        return []
    try:
        browser = subjects.device(session, settings, device_id)
    except InvalidInputError:
        return []  # not an id consent.js makes: nothing to link
    return link(session, settings, browser, person, via)
