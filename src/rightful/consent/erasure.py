"""A person's consent record once their personal information has been erased.

The record of what they chose is kept: it is the proof that consent was given or withdrawn and
that opt-outs were honoured, which the law asks a company to show. What goes is the address
itself (its sealed copy); the keyed lookup hash and the SHA-256 stay, so their opt-outs keep
working and marketing senders that still hold the address in a backup find it suppressed.
Every marketing channel is withdrawn as well: a deleted person is not marketed to again until
they come back and choose otherwise, which seals their address afresh. Phone numbers linked to
them are treated alike: texts withdrawn, the sealed number dropped.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from rightful.consent import catalog, ledger, subjects
from rightful.consent.catalog import Channel, Interface, State
from rightful.consent.models import ConsentSubject
from rightful.core.config import Settings


def after_erasure(
    session: Session, settings: Settings, *, email: str, jurisdiction: str, reference: str
) -> int:
    """Withdraw all marketing and forget the sealed address; safe to run again (a re-run records
    nothing). Returns the number of choices recorded."""
    catalog.ensure_built_in(session)
    person = subjects.person(session, settings, email)
    collected = ledger.Collected(
        interface=Interface.RIGHTS_REQUEST,
        jurisdiction=jurisdiction,
        proof={"request": reference, "reason": "personal information deleted"},
    )
    events = ledger.record(session, settings, person, ledger.no_marketing(), collected)
    person.sealed_email = None
    numbers = session.scalars(
        select(ConsentSubject).where(
            ConsentSubject.person_id == person.id, ConsentSubject.kind == "phone"
        )
    ).all()
    for number in numbers:  # their numbers too: no more texts, and the number itself goes
        stop = [ledger.Choice(catalog.ALL_MARKETING, Channel.SMS, State.WITHDRAWN)]
        events += ledger.record(session, settings, number, stop, collected)
        number.sealed_phone = None
    session.flush()
    return len(events)
