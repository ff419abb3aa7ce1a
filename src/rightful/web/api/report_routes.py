"""REST API v1 for the reports regulators ask for: the request records (11 CCR § 7101) as CSV
and a year's metrics (§ 7102) as JSON (reports/)."""

from __future__ import annotations

from datetime import date

from fastapi import Depends, Query
from fastapi.responses import Response
from pydantic import BaseModel

from rightful.core.clock import utcnow
from rightful.core.db import unit_of_work
from rightful.core.runtime import Runtime
from rightful.reports import records
from rightful.reports.metrics import metrics_for_staff
from rightful.security.permissions import Actor
from rightful.web.api.routes import api_actor
from rightful.web.deps import runtime
from rightful.web.routing import DeferredRouter

router = DeferredRouter(
    prefix="/api/v1/reports", dependencies=[Depends(api_actor)], tags=["reports"]
)


class KindFigures(BaseModel):
    """One kind of request in one year."""

    kind: str
    label: str
    received: int
    complied_in_whole: int
    complied_in_part: int
    denied: int
    denied_by_basis: dict[str, int]
    withdrawn: int
    not_yet_answered: int
    median_days_to_respond: float | None
    mean_days_to_respond: float | None


class YearFigures(BaseModel):
    """A year's metrics: whose requests (`scope`), counted on which day."""

    year: int
    scope: str
    counted_on: date
    kinds: list[KindFigures]


@router.get(
    "/records",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}, "description": "The records as CSV"}},
)
def request_records(
    first: date = Query(alias="from", description="First day received (inclusive)"),
    last: date = Query(alias="to", description="Last day received (inclusive)"),
    rt: Runtime = Depends(runtime),
    actor: Actor = Depends(api_actor),
) -> Response:
    """The request records received in a period: no identities, the reference names each."""
    with unit_of_work(rt.sessions) as session:
        rows = records.request_records(session, actor=actor, first=first, last=last)
    return Response(records.to_csv(rows), media_type="text/csv; charset=utf-8")


@router.get("/metrics/{year}", response_model=YearFigures)
def year_metrics(
    year: int,
    scope: str = Query("US-CA", description='"US-CA" (California consumers) or "all"'),
    rt: Runtime = Depends(runtime),
    actor: Actor = Depends(api_actor),
) -> YearFigures:
    """A calendar year's metrics per kind of request, as published on /privacy/metrics."""
    with unit_of_work(rt.sessions) as session:
        m = metrics_for_staff(session, actor=actor, year=year, scope=scope, today=utcnow().date())
    kinds = [
        KindFigures(
            kind=r.key,
            label=r.label,
            received=r.received,
            complied_in_whole=r.complied_in_whole,
            complied_in_part=r.complied_in_part,
            denied=r.denied_total,
            denied_by_basis={b.value: n for b, n in r.denied.items()},
            withdrawn=r.withdrawn,
            not_yet_answered=r.open,
            median_days_to_respond=r.median_days,
            mean_days_to_respond=r.mean_days,
        )
        for r in m.rows
    ]
    return YearFigures(year=m.year, scope=m.scope, counted_on=m.counted_on, kinds=kinds)
