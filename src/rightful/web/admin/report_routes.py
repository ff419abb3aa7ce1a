"""The console's morning view (the first page after sign-in), the lists behind its figures,
and the download of the request records (reports/)."""

from __future__ import annotations

from datetime import date

from fastapi import Depends, Query, Request
from fastapi.responses import Response

from rightful.core.clock import utcnow
from rightful.core.db import unit_of_work
from rightful.core.runtime import Runtime
from rightful.reports import morning, records
from rightful.reports.metrics import SCOPES
from rightful.web.admin.access import console_actor
from rightful.web.deps import runtime
from rightful.web.pages import render
from rightful.web.routing import DeferredRouter

router = DeferredRouter(prefix="/admin")


@router.get("/today")
def today(request: Request, rt: Runtime = Depends(runtime)) -> Response:
    """The morning view: counts only, each linking to the list that explains it."""
    with unit_of_work(rt.sessions) as session:
        actor = console_actor(request, session)
        view = morning.morning_view(session, rt.settings, actor=actor)
    first, last = records.default_period(view.today)
    return render(
        request,
        "admin/today.html",
        view=view,
        records_from=first,
        records_to=last,
        last_year=view.today.year - 1,
        scopes=SCOPES,
    )


@router.get("/today/requests")
def requests_due(
    request: Request, place: str = "all", when: str = "all", rt: Runtime = Depends(runtime)
) -> Response:
    """The open requests behind one figure: one place's (or all), by how soon they are due."""
    with unit_of_work(rt.sessions) as session:
        actor = console_actor(request, session)
        rows = morning.requests_due(session, rt.settings, actor=actor, place=place, when=when)
    name = "every place" if place == "all" else morning.place_name(place)
    return render(
        request, "admin/today_requests.html", rows=rows, place=name, when=morning.WHEN[when]
    )


@router.get("/today/partners")
def partners_open(request: Request, late: bool = False, rt: Runtime = Depends(runtime)) -> Response:
    """The business partners' confirmations still outstanding (or only those past their date)."""
    with unit_of_work(rt.sessions) as session:
        actor = console_actor(request, session)
        rows = morning.partner_notices_open(session, actor=actor, late_only=late)
    return render(request, "admin/today_partners.html", rows=rows, late=late, today=utcnow().date())


@router.get("/reports/records.csv")
def records_csv(
    request: Request,
    first: date = Query(alias="from"),
    last: date = Query(alias="to"),
    rt: Runtime = Depends(runtime),
) -> Response:
    """The request records of a period as CSV (11 CCR § 7101; no identities)."""
    with unit_of_work(rt.sessions) as session:
        actor = console_actor(request, session)
        rows = records.request_records(session, actor=actor, first=first, last=last)
    name = f"request-records-{first.isoformat()}-to-{last.isoformat()}.csv"
    return Response(
        records.to_csv(rows),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
