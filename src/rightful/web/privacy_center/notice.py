"""The published privacy notice: `/privacy` (a page with its contents and anchors, printable),
`/privacy/versions/N` (every earlier version), and `/privacy.json` (the same, as data)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import SQLAlchemyError

from rightful.core.errors import NotFoundError
from rightful.core.runtime import Runtime
from rightful.notices import service
from rightful.notices.models import NoticeVersion
from rightful.notices.render import split_title, to_html
from rightful.web.deps import runtime
from rightful.web.pages import render
from rightful.web.routing import DeferredRouter

router = DeferredRouter()


@dataclass(frozen=True)
class _Shown:
    row: NoticeVersion
    numbers: list[int]  # every published version, newest first
    in_force: int
    upcoming: NoticeVersion | None  # published, taking effect later


def _published(rt: Runtime, number: int | None = None) -> _Shown:
    with rt.sessions() as session:
        numbers = [v.number for v in service.published_versions(session)]
        in_force = service.current(session)
        row = in_force if number is None else service.published(session, number)
        if row is None or in_force is None:
            raise NotFoundError("No privacy notice is published yet.")
        upcoming = service.upcoming(session)
        session.expunge_all()
        return _Shown(row, numbers, in_force.number, upcoming)


def _page(request: Request, rt: Runtime, number: int | None) -> Response:
    shown = _published(rt, number)
    row = shown.row
    title, rest = split_title(row.rendered)
    html, headings = to_html(rest)
    upcoming = shown.upcoming if shown.upcoming is not row else None
    return render(
        request,
        "privacy_center/notice.html",
        version=row,
        body=html,
        title=title,
        contents=[h for h in headings if h.level == 2],
        earlier=[n for n in shown.numbers if n != row.number],
        is_current=row.number == shown.in_force,
        upcoming=upcoming,
        replaced=row.number < shown.in_force,
    )


@router.get("/privacy")
def notice_page(request: Request, rt: Runtime = Depends(runtime)) -> Response:
    """The notice in force."""
    return _page(request, rt, None)


@router.get("/privacy/versions/{number}")
def notice_version_page(number: int, request: Request, rt: Runtime = Depends(runtime)) -> Response:
    """An earlier (or the current) published version, as it was published."""
    return _page(request, rt, number)


def as_data(row: NoticeVersion, base_url: str) -> dict[str, Any]:
    """A published version as JSON: dates, sections with their anchors, blocks, text."""
    _, headings = to_html(row.rendered)
    return {
        "version": row.number,
        "effective_on": row.effective_on.isoformat() if row.effective_on else None,
        "last_updated_on": row.last_updated_on.isoformat() if row.last_updated_on else None,
        "material": row.material,
        "change_summary": row.change_summary,
        "url": base_url.rstrip("/") + "/privacy",
        "sections": [{"level": h.level, "title": h.text, "anchor": h.anchor} for h in headings],
        "blocks": row.blocks,
        "markdown": row.rendered,
    }


@router.get("/privacy.json")
def notice_json(rt: Runtime = Depends(runtime)) -> Response:
    """The notice in force as data (for apps, auditors, and comparing versions)."""
    return JSONResponse(as_data(_published(rt).row, rt.settings.base_url))


def install_banner(app: FastAPI, rt: Runtime) -> None:
    """Let every privacy-center page link to the notice once there is one, and say, for a
    while, that it changed (read once per request)."""

    def notice_state(request: Request) -> service.PublicState:
        known = getattr(request.state, "notice_state", None)
        if isinstance(known, service.PublicState):
            return known
        try:
            with rt.sessions() as session:
                state = service.public_state(session, rt.settings)
        except SQLAlchemyError:  # an error page must still render when the store is down
            state = service.PublicState(False, None)
        request.state.notice_state = state
        return state

    app.state.templates.env.globals["notice_state"] = notice_state
