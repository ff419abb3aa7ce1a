"""The console's DROP page: the 45-day clock, the latest cycle in counts, and its bad lines."""

from __future__ import annotations

from fastapi import Depends, Request
from fastapi.responses import Response

from rightful.core.db import unit_of_work
from rightful.core.runtime import Runtime
from rightful.drop import service
from rightful.web.admin.access import console_actor
from rightful.web.deps import runtime
from rightful.web.pages import render
from rightful.web.routing import DeferredRouter

router = DeferredRouter(prefix="/admin/drop")


@router.get("")
def drop_page(request: Request, rt: Runtime = Depends(runtime)) -> Response:
    """When the last list came, when the next is due, and what the latest cycle did."""
    with unit_of_work(rt.sessions) as session:
        actor = console_actor(request, session)
        summary = service.view_summary(session, rt.settings, actor=actor)
        problems = service.latest_problems(session, actor=actor)
        kept = service.kept_count(session)
    return render(request, "admin/drop.html", s=summary, problems=problems, kept=kept)
