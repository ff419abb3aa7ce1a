"""Nothing overdue in silence: every open clock (acknowledge, respond, answer an appeal), a
reminder before each due date, an escalation each day a clock is overdue, and a daily digest.

Each reminder, escalation and digest is claimed in `due_notices` (unique per subject, kind, due
date and day) in the same transaction that queues its e-mail and writes its audit event, so it
happens once however many workers run, and not at all if the worker dies before committing.
E-mails go to staff and name references, types and dates, never a person.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from rightful import laws
from rightful.core.calendar import add_business_days
from rightful.core.clock import utcnow
from rightful.core.config import Settings
from rightful.core.errors import ConflictError, InvalidInputError
from rightful.messaging.models import OutboxMessage
from rightful.messaging.service import queue_email
from rightful.rights.clock_models import Appeal, DueNotice
from rightful.rights.kinds import kind_of
from rightful.rights.models import RightsRequest
from rightful.rights.types import OPEN
from rightful.security import audit
from rightful.security.models import AuditEvent, StaffUser
from rightful.security.permissions import Actor, Permission, Role, require

# The e-mails that acknowledge a request: once one is actually sent, that clock stops.
ACKNOWLEDGEMENTS = ("acknowledgement", "received_by_staff")
CLOCK_NAMES = {
    "acknowledge": "Acknowledgement",
    "respond": "Response",
    "appeal": "Appeal decision",
}
ALERTED_ROLES = (Role.APPROVER.value, Role.ADMIN.value)
FILTERS = {"soon": "Due soon", "overdue": "Overdue", "due": "Due soon or overdue"}


@dataclass(frozen=True)
class Clock:
    """One running deadline of an open request or appeal."""

    subject: str  # the request's id, or the appeal's
    request_id: str
    reference: str
    request_type: str
    kind: str  # acknowledge | respond | appeal
    due: date
    today: date  # where the law applies

    @property
    def days_left(self) -> int:
        """Days until due (negative: overdue by that many)."""
        return (self.due - self.today).days

    @property
    def overdue(self) -> bool:
        """Past its due date."""
        return self.days_left < 0

    @property
    def when(self) -> str:
        """ "overdue by 3 days", "due today", "due in 2 days"."""
        days = abs(self.days_left)
        plural = "" if days == 1 else "s"
        if self.overdue:
            return f"overdue by {days} day{plural}"
        return "due today" if days == 0 else f"due in {days} day{plural}"

    @property
    def label(self) -> str:
        """The console's badge, e.g. "Response overdue by 3 days"."""
        return f"{CLOCK_NAMES[self.kind]} {self.when}"

    def row(self, settings: Settings) -> dict[str, str]:
        """What an e-mail to staff says about it: no personal data."""
        return {
            "reference": self.reference,
            "type": kind_of(self.request_type).label,
            "clock": CLOCK_NAMES[self.kind],
            "due": self.due.isoformat(),
            "when": self.when,
            "url": f"{settings.base_url}/admin/requests/{self.request_id}",
        }


def local_today(now: datetime, jurisdiction: str) -> date:
    """Today's date where a request's law applies (its due dates are dates there)."""
    try:
        return laws.local_date(now, jurisdiction)
    except InvalidInputError:  # a code no pack covers: one bad row must not stop every alert
        return now.date()


def acknowledged(session: Session, request_ids: Iterable[str]) -> set[str]:
    """Which of these requests had an acknowledgement actually sent: e-mailed (not merely
    queued), or, for a person without e-mail, its letter printed by staff to post."""
    ids = list(request_ids)
    if not ids:
        return set()
    stmt = select(OutboxMessage.id, OutboxMessage.request_id, OutboxMessage.status).where(
        OutboxMessage.request_id.in_(ids),
        OutboxMessage.template.in_(ACKNOWLEDGEMENTS),
        OutboxMessage.status.in_(("sent", "by_post")),
    )
    found: set[str] = set()
    letters: dict[int, str] = {}
    for message_id, request_id, status in session.execute(stmt):
        if request_id is None:
            continue
        if status == "sent":
            found.add(request_id)
        else:
            letters[message_id] = request_id
    if letters:  # a letter counts once staff opened it to print (rights/intake.py, audited)
        printed = select(AuditEvent.detail).where(
            AuditEvent.action == "staff.read_personal",
            AuditEvent.subject_type == "rights_request",
            AuditEvent.subject_id.in_(set(letters.values())),
        )
        for detail in session.scalars(printed):
            if detail.get("what") == "letter" and detail.get("message") in letters:
                found.add(letters[detail["message"]])
    return found


def request_clocks(
    session: Session, requests: Iterable[RightsRequest], now: datetime
) -> list[Clock]:
    """The running clocks of these requests: acknowledge until an acknowledgement is sent,
    respond until the request closes."""
    live = [r for r in requests if r.status in {s.value for s in OPEN}]
    acked = acknowledged(session, (r.id for r in live))
    clocks: list[Clock] = []
    for req in live:
        respond = Clock(
            subject=req.id,
            request_id=req.id,
            reference=req.reference,
            request_type=req.request_type,
            kind="respond",
            due=req.respond_due,
            today=local_today(now, req.jurisdiction),
        )
        if req.id not in acked:
            clocks.append(replace(respond, kind="acknowledge", due=req.acknowledge_due))
        clocks.append(respond)
    return clocks


def appeal_clocks(session: Session, now: datetime) -> list[Clock]:
    """Each open appeal's deadline to decide it."""
    stmt = (
        select(Appeal, RightsRequest)
        .join(RightsRequest, RightsRequest.id == Appeal.request_id)
        .where(Appeal.status == "open")
    )
    return [
        Clock(
            subject=appeal.id,
            request_id=req.id,
            reference=req.reference,
            request_type=req.request_type,
            kind="appeal",
            due=appeal.due,
            today=local_today(now, req.jurisdiction),
        )
        for appeal, req in session.execute(stmt)
    ]


def open_clocks(session: Session, now: datetime) -> list[Clock]:
    """Every running clock, soonest due first."""
    requests = session.scalars(
        select(RightsRequest).where(RightsRequest.status.in_([s.value for s in OPEN]))
    )
    clocks = request_clocks(session, requests, now) + appeal_clocks(session, now)
    return sorted(clocks, key=lambda c: (c.days_left, c.reference, c.kind))


def due_soon(session: Session, settings: Settings, *, actor: Actor) -> list[Clock]:
    """The clocks staff should look at now: overdue or due within the digest's window
    (references and dates only, no personal data)."""
    require(actor, Permission.REQUESTS_VIEW)
    return [c for c in open_clocks(session, utcnow()) if c.days_left <= settings.due_digest_days]


def check_extension(
    req: RightsRequest, now: datetime, mode: str = laws.RulesMode.PER_JURISDICTION
) -> None:
    """Refuse an extension the law does not allow: none at all under some laws, and never once
    the first period has passed (the consumer must be told inside it)."""
    rules = laws.rules_for(req.jurisdiction, mode)
    if rules.extension.period is None:
        raise ConflictError(
            f"The {rules.short} allows no extension of the deadline ({rules.extension.cite})."
        )
    if local_today(now, req.jurisdiction) > req.respond_due:
        raise ConflictError(
            f"The first period ended on {req.respond_due.isoformat()}. The law allows an "
            "extension only with notice to the consumer inside it, so this request can no "
            "longer be extended: answer it now."
        )


# --- the console -----------------------------------------------------------------------------


def console_marks(
    session: Session, settings: Settings, *, actor: Actor, requests: Iterable[RightsRequest]
) -> dict[str, list[Clock]]:
    """The badges of a page of requests: each clock overdue or due within the digest's days,
    most urgent first, by request id (no personal data)."""
    require(actor, Permission.REQUESTS_VIEW)
    rows = list(requests)
    now = utcnow()
    clocks = request_clocks(session, rows, now)
    ids = {r.id for r in rows}
    clocks += [c for c in appeal_clocks(session, now) if c.request_id in ids]
    marks: dict[str, list[Clock]] = {}
    for clock in sorted(clocks, key=lambda c: c.days_left):
        if clock.days_left <= settings.due_digest_days:
            marks.setdefault(clock.request_id, []).append(clock)
    return marks


def matches(marks: list[Clock] | None, which: str) -> bool:
    """Whether a request's marks fit the queue's filter: soon, overdue, or due (either)."""
    if not marks:
        return False
    if which == "overdue":
        return any(c.overdue for c in marks)
    if which == "soon":
        return any(not c.overdue for c in marks)
    return True


def due_filtered(
    session: Session,
    settings: Settings,
    *,
    actor: Actor,
    requests: Iterable[RightsRequest],
    which: str,
) -> list[RightsRequest]:
    """The requests the console's and the API's Deadlines filter keeps (`which`: soon,
    overdue, or due for either), in the order given."""
    rows = list(requests)
    marks = console_marks(session, settings, actor=actor, requests=rows)
    return [r for r in rows if matches(marks.get(r.id), which)]


# --- the daily run ---------------------------------------------------------------------------


def recipients(session: Session, settings: Settings) -> list[str]:
    """Who hears: the configured address, else every active approver and administrator, else
    the privacy office's address."""
    if settings.due_alert_email:
        return [settings.due_alert_email]
    found = session.scalars(
        select(StaffUser.email)
        .where(StaffUser.active.is_(True), StaffUser.role.in_(ALERTED_ROLES))
        .order_by(StaffUser.id)
    ).all()
    return list(found) or [settings.privacy_email]


def _taken(session: Session, now: datetime) -> set[tuple[str, str, date, date]]:
    # Claims that could still matter (every key's day is today or later): checked first, so
    # a run every minute does not try, and fail, to insert each one again.
    stmt = select(DueNotice.subject, DueNotice.kind, DueNotice.due, DueNotice.day).where(
        DueNotice.day >= now.date() - timedelta(days=2)
    )
    return {(s, k, due, day) for s, k, due, day in session.execute(stmt)}


def _claim(session: Session, subject: str, kind: str, due: date, day: date) -> bool:
    """Take one notice; False when another worker (or an earlier run) took it."""
    try:
        with session.begin_nested():
            session.add(DueNotice(subject=subject, kind=kind, due=due, day=day))
    except IntegrityError:
        return False
    return True


def _reminder_due(clock: Clock, settings: Settings) -> bool:
    # From N business days before the due date until the day itself.
    window_end = add_business_days(clock.today, settings.due_reminder_business_days)
    return not clock.overdue and clock.due <= window_end


def _record(session: Session, clock: Clock, action: str) -> None:
    audit.record(
        session,
        actor="system",
        action=action,
        subject_type="rights_request",
        subject_id=clock.request_id,
        detail={"clock": clock.kind, "due": clock.due.isoformat(), "days_left": clock.days_left},
    )


def _mail(
    session: Session, settings: Settings, to: list[str], template: str, context: dict[str, object]
) -> None:
    for address in to:
        queue_email(session, settings, to=address, template=template, context=context)


@dataclass(frozen=True)
class DueRun:
    """What one daily run sent: reminders, escalations and whether the digest went."""

    reminders: int
    escalations: int
    digest: bool


def run_due_daily(session: Session, settings: Settings) -> DueRun:
    """Remind staff before due dates, escalate what is overdue (once a day each) and send the
    day's digest, each claimed first; commits (a worker job)."""
    now = utcnow()
    clocks = open_clocks(session, now)
    to = recipients(session, settings)
    taken = _taken(session, now)

    def claim(clock: Clock, kind: str, day: date) -> bool:
        key = (clock.subject, f"{clock.kind}_{kind}", clock.due, day)
        return key not in taken and _claim(session, *key)

    reminders = [c for c in clocks if _reminder_due(c, settings) and claim(c, "reminder", c.due)]
    overdue = [c for c in clocks if c.overdue and claim(c, "overdue", c.today)]
    for clock in reminders:
        _record(session, clock, "request.due_reminder")
    for clock in overdue:
        _record(session, clock, "request.overdue")
    if reminders:
        rows = [c.row(settings) for c in reminders]
        _mail(session, settings, to, "due_reminder", {"rows": rows, "total": len(rows)})
    if overdue:
        rows = [c.row(settings) for c in overdue]
        _mail(session, settings, to, "overdue", {"rows": rows, "total": len(rows)})
    digest = _send_digest(session, settings, clocks, now, to)
    session.commit()  # claims, audit events and e-mails land together, or none does
    return DueRun(reminders=len(reminders), escalations=len(overdue), digest=digest)


def _send_digest(
    session: Session, settings: Settings, clocks: list[Clock], now: datetime, to: list[str]
) -> bool:
    day = now.date()
    late = [c.row(settings) for c in clocks if c.overdue]
    soon = [
        c.row(settings) for c in clocks if not c.overdue and c.days_left <= settings.due_digest_days
    ]
    if not (late or soon) or ("digest", "digest", day, day) in _taken(session, now):
        return False
    if not _claim(session, "digest", "digest", day, day):
        return False
    context = {
        "overdue": late,
        "soon": soon,
        "days": settings.due_digest_days,
        "day": day.isoformat(),
    }
    _mail(session, settings, to, "due_digest", context)
    audit.record(
        session,
        actor="system",
        action="due.digest",
        subject_type="digest",
        subject_id=day.isoformat(),
        detail={"overdue": len(late), "soon": len(soon), "recipients": len(to)},
    )
    return True
