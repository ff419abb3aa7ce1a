"""The yearly request metrics, public, ready to link from the privacy notice (11 CCR § 7102):
an HTML page and the same figures as CSV. No personal data: counts only.

Figures are compiled from the whole year's requests (a few seconds for a hundred thousand), so
each page is kept for a few minutes per Rightful process rather than compiled for every visitor.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from fastapi import Depends, Request
from fastapi.responses import RedirectResponse, Response

from rightful.core.clock import utcnow
from rightful.core.db import unit_of_work
from rightful.core.runtime import Runtime
from rightful.reports.appeal_metrics import StateAppeals, appeals_by_state
from rightful.reports.metrics import FIRST_YEAR, SCOPES, YearMetrics, compile_year, to_csv
from rightful.rights.denial_basis import LABELS as DENIAL_LABELS
from rightful.rights.denial_basis import SHORT_LABELS as DENIAL_SHORT
from rightful.web.deps import runtime
from rightful.web.pages import render
from rightful.web.routing import DeferredRouter

router = DeferredRouter(prefix="/privacy/metrics")
KEEP_SECONDS = 600


def _figures(
    request: Request, rt: Runtime, year: int, scope: str
) -> tuple[YearMetrics, list[StateAppeals]]:
    """The year's figures, from this process's short-lived copy when there is one; visitors
    arriving while they are compiled wait for that one compilation rather than start more."""
    state = request.app.state.__dict__
    kept: dict[tuple[int, str], tuple[float, Any]] = state.setdefault("metrics_kept", {})
    lock: threading.Lock = state.setdefault("metrics_lock", threading.Lock())
    with lock:
        hit = kept.get((year, scope))
        if hit and time.monotonic() - hit[0] < KEEP_SECONDS:
            figures: tuple[YearMetrics, list[StateAppeals]] = hit[1]
            return figures
        with unit_of_work(rt.sessions) as session:
            metrics = compile_year(session, year=year, scope=scope, today=utcnow().date())
            appeals = appeals_by_state(session, year=year)
        kept[(year, scope)] = (time.monotonic(), (metrics, appeals))
    return metrics, appeals


@router.get("")
def latest() -> Response:
    """The last full year's figures: the link a notice can keep from year to year."""
    return RedirectResponse(f"/privacy/metrics/{utcnow().year - 1}", status_code=307)


@router.get("/{year}.csv")
def metrics_csv(
    request: Request, year: int, scope: str = "US-CA", rt: Runtime = Depends(runtime)
) -> Response:
    """The year's figures as CSV, one row per kind of request."""
    metrics, _ = _figures(request, rt, year, scope)
    name = f"privacy-request-metrics-{year}-{scope.lower()}.csv"
    return Response(
        to_csv(metrics),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get("/{year}")
def metrics_page(
    request: Request, year: int, scope: str = "US-CA", rt: Runtime = Depends(runtime)
) -> Response:
    """The year's figures as a page: a table per question, how they are counted, appeals."""
    metrics, appeals = _figures(request, rt, year, scope)
    today = utcnow().date()
    return render(
        request,
        "privacy_center/metrics.html",
        m=metrics,
        appeals=appeals,
        denial_labels=DENIAL_LABELS,
        denial_short=DENIAL_SHORT,
        scopes=SCOPES,
        years=range(today.year, FIRST_YEAR - 1, -1),
        year_open=year == today.year,
    )
