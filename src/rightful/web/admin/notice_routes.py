"""The console's Privacy notice pages: every version with its check against the data map, one
version's text, and the difference between two versions."""

from __future__ import annotations

from fastapi import Depends, Request
from fastapi.responses import Response

from rightful.core.db import unit_of_work
from rightful.core.runtime import Runtime
from rightful.notices import service
from rightful.notices.render import split_title, to_html
from rightful.web.admin.access import console_actor
from rightful.web.deps import runtime
from rightful.web.pages import render
from rightful.web.routing import DeferredRouter

router = DeferredRouter(prefix="/admin/notices")


@router.get("")
def notices_page(request: Request, rt: Runtime = Depends(runtime)) -> Response:
    """Versions, newest first, each with whether it is true to the data map now."""
    with unit_of_work(rt.sessions) as session:
        actor = console_actor(request, session)
        reports = service.check_all(session, rt.settings, actor=actor)
        current, upcoming = service.current(session), service.upcoming(session)
        return render(
            request,
            "admin/notices.html",
            reports=reports,
            current=current.number if current else None,
            upcoming=upcoming.number if upcoming else None,
            numbers=[r.version.number for r in reports],
        )


@router.get("/diff")
def notice_diff_page(
    request: Request, old: int, new: int, rt: Runtime = Depends(runtime)
) -> Response:
    """What changed from version `old` to version `new`."""
    with unit_of_work(rt.sessions) as session:
        actor = console_actor(request, session)
        text = service.diff(session, old, new, actor=actor)
        numbers = [v.number for v in service.versions(session, actor=actor)]
    return render(
        request,
        "admin/notice_diff.html",
        old=old,
        new=new,
        lines=text.splitlines(),
        numbers=numbers,
    )


@router.get("/{number}")
def notice_version_page(request: Request, number: int, rt: Runtime = Depends(runtime)) -> Response:
    """One version's text and its check."""
    with unit_of_work(rt.sessions) as session:
        actor = console_actor(request, session)
        report = service.check_version(session, rt.settings, actor=actor, number=number)
        title, text = split_title(report.version.rendered)
        html, _ = to_html(text)
        return render(request, "admin/notice.html", report=report, title=title, body=html)
