"""The morning view: what the privacy office should look at first, as counts that each link to
the list explaining them. Counts only, so a viewer (a role without personal data) sees it all.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from urllib.parse import urlencode

from sqlalchemy import select
from sqlalchemy.orm import Session

from rightful import laws
from rightful.consent import staff as consent_desk
from rightful.consent.destinations import OPEN_STATUSES as DELIVERY_OPEN
from rightful.core.clock import utcnow
from rightful.core.config import Settings
from rightful.core.errors import InvalidInputError
from rightful.reports.panels import Panel, drop_panel, notice_panel
from rightful.rights.clock_models import Appeal
from rightful.rights.due import Clock, local_today, request_clocks
from rightful.rights.models import PartnerNotice, RightsRequest
from rightful.rights.partners import OPEN_STATUSES as NOTICE_OPEN
from rightful.rights.task_models import ManualTask
from rightful.rights.tasks import task_due
from rightful.rights.types import OPEN
from rightful.security.permissions import Actor, Permission, require

WHEN = {"overdue": "Overdue", "soon": "Due soon", "later": "Due later", "all": "Open"}


@dataclass(frozen=True)
class Figure:
    """One count on the page and the list behind it."""

    label: str
    count: int
    href: str
    urgent: bool = False  # needs action today: shown as an alert when above zero


@dataclass
class PlaceRow:
    """Open requests governed by one law, by how soon their answer is due."""

    jurisdiction: str
    name: str
    overdue: int = 0
    soon: int = 0
    later: int = 0

    @property
    def open(self) -> int:
        """Every open request of this place."""
        return self.overdue + self.soon + self.later

    def href(self, when: str) -> str:
        """The list of this place's requests that are `when`."""
        return "/admin/today/requests?" + urlencode({"place": self.jurisdiction, "when": when})


@dataclass(frozen=True)
class Morning:
    """The whole page."""

    today: date
    places: list[PlaceRow]
    requests: list[Figure]
    partners: list[Figure]
    consent: list[Figure]
    work: list[Figure]
    elsewhere: list[Panel] = field(default_factory=list)


def _when(clock: Clock, soon_days: int) -> str:
    if clock.overdue:
        return "overdue"
    return "soon" if clock.days_left <= soon_days else "later"


def place_name(code: str) -> str:
    """A jurisdiction's name, or its code when no pack covers it any more."""
    try:
        return laws.parse(code).name
    except InvalidInputError:
        return code


def _open_requests(session: Session) -> list[RightsRequest]:
    stmt = select(RightsRequest).where(RightsRequest.status.in_([s.value for s in OPEN]))
    return list(session.scalars(stmt))


def _places(clocks: Iterable[Clock], rows: list[RightsRequest], soon: int) -> list[PlaceRow]:
    place_of = {r.id: r.jurisdiction for r in rows}
    found: dict[str, PlaceRow] = {}
    for clock in clocks:
        if clock.kind != "respond":
            continue
        code = place_of[clock.request_id]
        row = found.setdefault(code, PlaceRow(code, place_name(code)))
        which = _when(clock, soon)
        setattr(row, which, getattr(row, which) + 1)
    return sorted(found.values(), key=lambda p: (-p.overdue, -p.open, p.name))


def _request_figures(clocks: list[Clock], soon: int) -> list[Figure]:
    overdue = {c.request_id for c in clocks if c.overdue}
    unacked = {c.request_id for c in clocks if c.kind == "acknowledge" and c.overdue}
    due_soon = {c.request_id for c in clocks if not c.overdue and c.days_left <= soon}
    return [
        Figure(
            "Open requests",
            len({c.request_id for c in clocks}),
            "/admin/today/requests?place=all&when=all",
        ),
        Figure("Overdue", len(overdue), "/admin?due=overdue", urgent=True),
        Figure("Not acknowledged in time", len(unacked), "/admin?due=overdue", urgent=True),
        Figure(f"Due within {soon} days", len(due_soon), "/admin?due=soon"),
    ]


def _partner_figures(session: Session, today: date) -> list[Figure]:
    dues = list(
        session.scalars(select(PartnerNotice.due).where(PartnerNotice.status.in_(NOTICE_OPEN)))
    )
    late = sum(1 for d in dues if d < today)
    return [
        Figure("Partner confirmations outstanding", len(dues), "/admin/today/partners"),
        Figure("Past their date", late, "/admin/today/partners?late=1", urgent=True),
    ]


def _consent_figures(session: Session, actor: Actor) -> list[Figure]:
    summary = consent_desk.delivery_summary(session, actor=actor)
    waiting = sum(
        n for d in summary.destinations for s, n in d.counts.items() if s in DELIVERY_OPEN
    )
    late = sum(d.late for d in summary.destinations)
    overdue = sum(d.overdue for d in summary.destinations)
    href = "/admin/consent#propagation-h"
    return [
        Figure("Choices waiting to reach a system", waiting, href),
        Figure(f"Past the {summary.target_hours}-hour aim", late, href),
        Figure(
            f"Past the {summary.legal_business_days}-business-day deadline",
            overdue,
            href,
            urgent=True,
        ),
    ]


def _work_figures(session: Session, now: datetime) -> list[Figure]:
    tasks = session.execute(
        select(ManualTask, RightsRequest)
        .join(RightsRequest, RightsRequest.id == ManualTask.request_id)
        .where(ManualTask.status == "open")
    ).all()
    late_tasks = sum(1 for _, r in tasks if task_due(r) < local_today(now, r.jurisdiction))
    appeals = session.execute(
        select(Appeal.due, RightsRequest.jurisdiction)
        .join(RightsRequest, RightsRequest.id == Appeal.request_id)
        .where(Appeal.status == "open")
    ).all()
    late_appeals = sum(1 for due, code in appeals if due < local_today(now, code))
    return [
        Figure("Manual tasks waiting", len(tasks), "/admin/tasks?everyone=true"),
        Figure("Manual tasks past their date", late_tasks, "/admin/tasks?everyone=true", True),
        Figure("Appeals to decide", len(appeals), "/admin/appeals?status=open"),
        Figure("Appeals overdue", late_appeals, "/admin/appeals?status=open", urgent=True),
    ]


def morning_view(session: Session, settings: Settings, *, actor: Actor) -> Morning:
    """The counts of the morning view (no personal data: counts and links only)."""
    require(actor, Permission.REQUESTS_VIEW)
    now = utcnow()
    soon = settings.due_digest_days
    rows = _open_requests(session)
    clocks = request_clocks(session, rows, now)
    return Morning(
        today=now.date(),
        places=_places(clocks, rows, soon),
        requests=_request_figures(clocks, soon),
        partners=_partner_figures(session, now.date()),
        consent=_consent_figures(session, actor) if actor.can(Permission.CONSENT_VIEW) else [],
        work=_work_figures(session, now),
        elsewhere=[
            notice_panel(session, settings, actor=actor, today=now.date()),
            drop_panel(session, settings),
        ],
    )


def requests_due(
    session: Session, settings: Settings, *, actor: Actor, place: str, when: str
) -> list[tuple[RightsRequest, Clock]]:
    """The open requests of one place (or "all") that are `when` (WHEN), soonest first: the
    list behind a figure of the morning view (references only)."""
    require(actor, Permission.REQUESTS_VIEW)
    if when not in WHEN:
        raise InvalidInputError(f"Choose one of: {', '.join(WHEN)}.")
    rows = [r for r in _open_requests(session) if place in ("all", r.jurisdiction)]
    by_id = {r.id: r for r in rows}
    found = [
        (by_id[c.request_id], c)
        for c in request_clocks(session, rows, utcnow())
        if c.kind == "respond" and when in ("all", _when(c, settings.due_digest_days))
    ]
    return sorted(found, key=lambda pair: (pair[1].days_left, pair[0].reference))


def partner_notices_open(
    session: Session, *, actor: Actor, late_only: bool = False
) -> list[tuple[PartnerNotice, RightsRequest]]:
    """Partner notices still waiting for an answer (or only those past their date), soonest
    due first, with their request (no personal data: a partner key and a reference)."""
    require(actor, Permission.REQUESTS_VIEW)
    stmt = (
        select(PartnerNotice, RightsRequest)
        .join(RightsRequest, RightsRequest.id == PartnerNotice.request_id)
        .where(PartnerNotice.status.in_(NOTICE_OPEN))
        .order_by(PartnerNotice.due, RightsRequest.reference)
    )
    if late_only:
        stmt = stmt.where(PartnerNotice.due < utcnow().date())
    return [(n, r) for n, r in session.execute(stmt)]
