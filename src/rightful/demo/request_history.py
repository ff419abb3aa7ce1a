"""A year of past requests for the demo (2025), so the yearly metrics, the request records and
the appeals have something true to show.

Each request is made and answered through the service functions staff and consumers use (the
web form's `flows.submit`, a letter or call through `intake.record`, `extend_request`,
`deny_request`, `withdraw`, `approve_request`, appeals), with the clock frozen at each moment, so
its clocks, statuses and audit timeline are what they would have been. The people are fictional
and none is in Lumen's databases, so no request reaches a system: staff record what they did
(nothing found, or what was kept and why), and a web request's identity check is recorded as
passed rather than matched against the stores. Their e-mails are written as they were then and
kept as recorded, never queued, so nothing from 2025 is sent now. The whole year is one
transaction: seeded once, never doubled, and `--fresh` starts it again.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from rightful.core import clock
from rightful.core.config import Settings
from rightful.core.db import unit_of_work
from rightful.core.runtime import Runtime
from rightful.rights import appeals, flows, intake, service
from rightful.rights.appeal_terms import appeal_signer
from rightful.rights.kinds import kind_of
from rightful.rights.models import RightsRequest
from rightful.rights.schemas import RequestIn
from rightful.rights.types import Status
from rightful.rights.withdrawal import withdraw
from rightful.security.models import StaffUser
from rightful.security.permissions import Actor, Role, staff_actor, system_actor
from rightful.security.service import create_staff
from rightful.security.vault import keyed_hash

YEAR = 2025
COUNSEL = ("sam.okafor@lumen.example", "Sam Okafor")  # decides appeals: not the first decider
AGENT = ("Clearpath Privacy Agents", "requests@clearpath-agents.example")
# How a letter's or a call's identity was checked (intake.METHODS).
CHECKED_BY = {"post": "signed_letter", "phone": "data_points_phone", "email": "data_points_phone"}
NOTES = {
    "know": "We searched every system in our data map and sent what we hold about you.",
    "delete": "We deleted your account, orders history and support messages, and told our "
    "service providers to do the same.",
    "correct": "We corrected the detail you named in our online store and support desk.",
    "opt_out": "We stopped selling or sharing your personal information and told the "
    "partners we shared it with.",
    "limit": "We now use your sensitive personal information only to provide the service.",
}
PARTLY = {
    "know": "We sent what our systems hold; the paper archive's box for your address was "
    "damaged in a flood in 2023 and could not be searched.",
    "delete": "We deleted your account and support messages. Your orders are kept until the "
    "end of the tax period the law sets, and then deleted.",
}
DENIED = {
    "exempt": "The information you asked for is held for a warranty claim under way, which "
    "the law lets us keep and not disclose until it is settled.",
    "not_by_consumer": "The agent sent no permission signed by you, and when we wrote to you "
    "you told us you had not asked them to act for you.",
    "not_verifiable": "The details you gave did not match our records, so we could not be "
    "sure the request was yours. Nothing was deleted.",
    "other": "The date of birth you asked us to change matches the identity document you "
    "sent us, so we kept it as it is.",
}


@dataclass(frozen=True)
class Past:
    """One request of the history and what became of it."""

    name: str  # fictional
    kind: str  # a request type value
    place: str  # its jurisdiction
    received: date
    ending: str  # done | part | withdrawn | used_up | deny:<basis>
    days: int  # calendar days from receipt to its first answer
    channel: str = "web"
    extended: bool = False
    by_agent: bool = False
    appeal: str | None = None  # the outcome of an appeal filed 25 days after the answer

    @property
    def email(self) -> str:
        """The person's (fictional) address, on a domain kept for examples."""
        return self.name.lower().replace(" ", ".") + "@example.net"


D = date
HISTORY: tuple[Past, ...] = (
    Past("Rosa Delgado", "opt_out_sale", "US-CA", D(2025, 1, 9), "done", 1),
    Past("Martin Ebert", "access", "US-CA", D(2025, 1, 14), "done", 12),
    Past("Keiko Tanaka", "delete", "US-CA", D(2025, 1, 28), "done", 10),
    Past("Wes Harlan", "know_categories", "US-CA", D(2025, 2, 3), "done", 5),
    Past("Priya Raman", "correct", "US-CA", D(2025, 2, 11), "done", 8),
    Past("Luis Ortega", "access", "US-TX", D(2025, 2, 18), "done", 14),
    Past("Nadia Farouk", "opt_out_sale", "US-CA", D(2025, 2, 20), "done", 0),
    Past("Glen Whitaker", "delete", "US-CA", D(2025, 3, 3), "part", 21),
    Past("Hannah Brandt", "access", "US-CA", D(2025, 3, 10), "done", 62, extended=True),
    Past("Calvin Moore", "delete", "US-VA", D(2025, 3, 18), "deny:exempt", 18, appeal="reversed"),
    Past("Ines Moreau", "limit_sensitive", "US-CA", D(2025, 3, 25), "done", 4),
    Past("Dmitri Volkov", "correct", "US-CA", D(2025, 4, 8), "deny:other", 25, channel="email"),
    Past("Tamsin Gray", "opt_out_sale", "US-CA", D(2025, 4, 15), "done", 2),
    Past("Oren Adler", "access", "US-CA", D(2025, 4, 22), "deny:exempt", 20, channel="email"),
    Past("Beth Kowalski", "portability", "US-CA", D(2025, 5, 6), "done", 9),
    Past("Aoife Byrne", "access", "IE", D(2025, 5, 13), "done", 48, extended=True),
    Past("Jamal Price", "delete", "US-CA", D(2025, 5, 20), "done", 7, channel="phone"),
    Past("Tobias Lund", "delete", "US-TX", D(2025, 6, 10), "done", 9),
    Past("Mei Chen", "access", "US-CA", D(2025, 6, 17), "deny:not_by_consumer", 15, by_agent=True),
    Past("Ruth Okonkwo", "delete", "US-CA", D(2025, 6, 30), "deny:not_verifiable", 14),
    Past("Felix Amador", "know_categories", "US-CA", D(2025, 7, 1), "withdrawn", 3),
    Past("Yara Haddad", "opt_out_sale", "US-CA", D(2025, 7, 22), "done", 1),
    Past("Simone Laurent", "correct", "US-CA", D(2025, 8, 5), "done", 11),
    Past("Grant Pearce", "access", "US-VA", D(2025, 8, 12), "done", 11),
    Past("Lena Fischer", "access", "US-CA", D(2025, 8, 19), "used_up", 2),
    Past("Owen Maddox", "opt_out_sale", "US-TX", D(2025, 9, 2), "done", 1),
    Past("Carla Benedetti", "delete", "US-CA", D(2025, 9, 9), "withdrawn", 2),
    Past("Ahmed Saleh", "limit_sensitive", "US-CA", D(2025, 9, 23), "done", 6),
    Past("Nora Quigley", "access", "US-CA", D(2025, 10, 7), "part", 30, channel="post"),
    Past("Ciaran Walsh", "delete", "IE", D(2025, 10, 14), "done", 6, channel="email"),
    Past("Bea Lindqvist", "opt_out_sale", "US-CA", D(2025, 10, 28), "done", 3, channel="phone"),
    Past("Victor Szabo", "delete", "US-CA", D(2025, 11, 4), "done", 58, extended=True),
    Past("Paloma Ruiz", "delete", "US-CA", D(2025, 12, 1), "done", 16),
    Past("Eamon Doyle", "correct", "IE", D(2025, 12, 9), "done", 6),
    Past("Greta Holm", "opt_out_sale", "US-CA", D(2025, 12, 16), "done", 1),
)

Step = Callable[[Session, Settings, "Year", Past], None]


@dataclass
class Year:
    """The history being written: each past request's id once made, and who acts."""

    officer: Actor
    counsel: Actor
    ids: dict[str, str]

    def request(self, session: Session, past: Past) -> RightsRequest:
        """The request made for `past`."""
        return service.access_request(session, self.ids[past.email])


def _data(past: Past) -> RequestIn:
    fields: dict[str, object] = {
        "request_type": past.kind,
        "channel": past.channel,
        "email": past.email,
        "name": past.name,
        "jurisdiction": past.place,
        "declaration_signature": past.name if kind_of(past.kind).specific_pieces else None,
    }
    if past.kind == "correct":
        fields |= {"correction_item": "date_of_birth", "correction_value": "1984-03-12"}
    if past.by_agent:
        fields |= {"requester_role": "agent", "requester_name": AGENT[0]}
        fields |= {"requester_email": AGENT[1]}
    if past.channel != "web":
        fields |= {"received_at": past.received, "identity_method": CHECKED_BY[past.channel]}
    return RequestIn.model_validate(fields)


def _receive(session: Session, settings: Settings, year: Year, past: Past) -> None:
    if past.channel == "web":
        req = flows.submit(session, settings, _data(past), client=None)
    else:
        req = intake.record(session, settings, _data(past), actor=year.officer, via="console")
    year.ids[past.email] = req.id


def _code_entered(session: Session, settings: Settings, year: Year, past: Past) -> None:
    # Recorded as flows.verify records a match: the people are in none of Lumen's stores.
    req = year.request(session, past)
    req.verification_level = req.required_level
    level = {"level": req.required_level, "required": req.required_level}
    service.move(session, req, Status.VERIFIED, actor="consumer", detail=level)
    service.route_verified(session, settings, req, actor="system")


def _new_code(session: Session, settings: Settings, year: Year, past: Past) -> None:
    # Asks for code after code and enters none: the last ask closes it (verification_used_up).
    flows.resend_code(session, settings, request_id=year.ids[past.email], client="192.0.2.7")


def _extend(session: Session, settings: Settings, year: Year, past: Past) -> None:
    reason = "Our paper archive is being moved to a new site and its boxes are not reachable."
    service.extend_request(
        session, settings, request_id=year.ids[past.email], actor=year.officer, reason=reason
    )


def _carry_out(
    session: Session, settings: Settings, year: Year, past: Past, *, partly: bool = False
) -> None:
    req = year.request(session, past)
    if req.status == Status.AWAITING_APPROVAL.value:
        service.approve_request(session, settings, request_id=req.id, actor=year.officer)
    row = kind_of(past.kind).reported_as or "know"
    note = PARTLY[row] if partly else NOTES[row]
    to = Status.PARTIALLY_COMPLETED if partly else Status.COMPLETED
    service.move(session, req, to, actor=year.officer.name, reason=note)
    service.notify_consumer(session, settings, req, "done_manually", {"note": note})


def _answer(session: Session, settings: Settings, year: Year, past: Past) -> None:
    request_id = year.ids[past.email]
    if past.ending == "withdrawn":
        withdraw(session, settings, request_id=request_id, actor=None)
    elif past.ending == "used_up":
        _new_code(session, settings, year, past)
    elif past.ending.startswith("deny:"):
        basis = past.ending.removeprefix("deny:")
        service.deny_request(
            session,
            settings,
            request_id=request_id,
            actor=year.officer,
            reason=DENIED[basis],
            basis=basis,
        )
    else:
        _carry_out(session, settings, year, past, partly=past.ending == "part")


def _appeal(session: Session, settings: Settings, year: Year, past: Past) -> None:
    token = appeal_signer(settings).sign(year.ids[past.email])
    reason = "My Lumen doorbell's warranty ended last year, so there is no claim to keep it for."
    appeals.file_appeal(session, settings, token=token, reason=reason)


def _decide(session: Session, settings: Settings, year: Year, past: Past) -> None:
    appeal = appeals.appeal_of(session, year.ids[past.email])
    assert appeal is not None and past.appeal is not None
    explanation = (
        "You are right: the warranty ended in 2024 and no claim is open, so nothing lets us "
        "keep your information. We will delete it and write to you when it is done."
    )
    appeals.decide_appeal(
        session,
        settings,
        appeal_id=appeal.id,
        actor=year.counsel,
        outcome=past.appeal,
        explanation=explanation,
    )


def _after_appeal(session: Session, settings: Settings, year: Year, past: Past) -> None:
    _carry_out(session, settings, year, past)


def _moments(past: Past) -> list[tuple[datetime, Step]]:
    """When each step of `past` happened (17:00 UTC: the same date in California and Dublin)."""
    start = datetime.combine(past.received, time(17), tzinfo=UTC)
    answered = start + timedelta(days=past.days, hours=2)
    steps: list[tuple[datetime, Step]] = [(start, _receive)]
    if past.channel == "web" and kind_of(past.kind).verification_level:
        if past.ending == "used_up":
            steps += [(start + timedelta(hours=h), _new_code) for h in range(1, 5)]
        else:
            steps.append((start + timedelta(minutes=40), _code_entered))
    if past.extended:
        steps.append((start + timedelta(days=20), _extend))
    steps.append((answered, _answer))
    if past.appeal:
        filed = answered + timedelta(days=25)
        steps += [
            (filed, _appeal),
            (filed + timedelta(days=21), _decide),
            (filed + timedelta(days=24), _after_appeal),
        ]
    return steps


def _history_hashes(settings: Settings) -> list[str]:
    return [keyed_hash(settings.secret_key, "email", p.email) for p in HISTORY]


def count_history(session: Session, settings: Settings) -> int:
    """How many requests in the store are the history's (none before it is seeded)."""
    where = RightsRequest.email_hash.in_(_history_hashes(settings))
    return int(session.scalar(select(func.count()).where(where)) or 0)


def _staff(session: Session, officer_email: str) -> tuple[Actor, Actor]:
    officer = session.scalars(select(StaffUser).where(StaffUser.email == officer_email)).one()
    counsel = create_staff(
        session,
        email=COUNSEL[0],
        name=COUNSEL[1],
        password=secrets.token_urlsafe(24),  # nobody signs in as them in the demo
        role=Role.APPROVER,
        actor=system_actor("demo"),
    )
    return (
        staff_actor(name=officer.email, staff_id=officer.id, role=officer.role),
        staff_actor(name=counsel.email, staff_id=counsel.id, role=counsel.role),
    )


def seed_request_history(runtime: Runtime, *, officer_email: str) -> int:
    """Write the year of requests unless the store has it; returns the requests written."""
    # The demo sends no mail; without a mail server every message is recorded, never queued.
    settings = runtime.settings.model_copy(update={"smtp_url": ""})
    with runtime.sessions() as session:
        if count_history(session, settings):
            return 0
    steps = sorted(
        ((at, n, step, past) for n, past in enumerate(HISTORY) for at, step in _moments(past)),
        key=lambda s: (s[0], s[1]),
    )
    try:
        with unit_of_work(runtime.sessions) as session:
            officer, counsel = _staff(session, officer_email)
            year = Year(officer, counsel, {})
            for at, _, step, past in steps:
                clock.freeze(at)
                step(session, settings, year, past)
    finally:
        clock.freeze(None)
    return len(HISTORY)
