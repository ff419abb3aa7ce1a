"""The console's appeals: the queue, one appeal with what the person wrote (for roles that read
personal data; audited) and the decision form (rights/appeals.py)."""

from __future__ import annotations

from typing import Any

from fastapi import Depends, Request
from fastapi.responses import RedirectResponse, Response

from rightful.core.clock import utcnow
from rightful.core.db import unit_of_work
from rightful.core.errors import RightfulError
from rightful.core.runtime import Runtime
from rightful.rights import appeals, service
from rightful.rights import due as clocks
from rightful.rights.appeal_terms import terms_for
from rightful.rights.kinds import kind_of
from rightful.security.permissions import Permission
from rightful.web.admin.access import console_actor
from rightful.web.deps import check_csrf, dispatcher, runtime
from rightful.web.pages import render
from rightful.web.routing import DeferredRouter
from rightful.worker.dispatch import Dispatcher

router = DeferredRouter(prefix="/admin/appeals")
STATUSES = {"open": "Open", "decided": "Decided"}


@router.get("")
def appeals_list(request: Request, status: str = "", rt: Runtime = Depends(runtime)) -> Response:
    """Every appeal, open first, soonest due first, each with its clock."""
    with unit_of_work(rt.sessions) as session:
        actor = console_actor(request, session)
        rows = appeals.list_appeals(session, actor=actor, status=status or None)
        now = utcnow()
        marks = {c.subject: c for c in clocks.appeal_clocks(session, now)}
    return render(
        request,
        "admin/appeals.html",
        rows=rows,
        marks=marks,
        status=status if status in STATUSES else "",
        appeal_statuses=STATUSES,
        outcomes=appeals.OUTCOMES,
    )


@router.get("/{appeal_id}")
def appeal_detail(
    request: Request,
    appeal_id: str,
    rt: Runtime = Depends(runtime),
    error: str = "",
    form: dict[str, str] | None = None,
) -> Response:
    """One appeal: its request, its clock, who decided first, what the person wrote."""
    with unit_of_work(rt.sessions) as session:
        actor = console_actor(request, session)
        appeal = appeals.access_appeal(session, actor=actor, appeal_id=appeal_id)
        req = service.access_request(session, appeal.request_id)
        ctx: dict[str, Any] = {
            "appeal": appeal,
            "req": req,
            "type_label": kind_of(req.request_type).label,
            "terms": terms_for(rt.settings, req),
            "first_deciders": sorted(appeals.first_deciders(session, req.id)),
            "texts": (
                appeals.read_appeal_text(session, rt.settings, actor=actor, appeal=appeal)
                if actor.can(Permission.REQUESTS_READ_PERSONAL)
                else None
            ),
            "marks": [c for c in clocks.appeal_clocks(session, utcnow()) if c.subject == appeal.id],
            "extend_to": appeals.may_extend(rt.settings, req, appeal),
            "me": actor.name,
            "outcomes": appeals.OUTCOMES,
            "error": error,
            "form": form or {},
        }
    return render(request, "admin/appeal.html", 422 if error else 200, **ctx)


@router.post("/{appeal_id}/decide")
async def decide(
    request: Request,
    appeal_id: str,
    rt: Runtime = Depends(runtime),
    disp: Dispatcher = Depends(dispatcher),
) -> Response:
    """Decide; errors come back on the same page with what was written."""
    form = await request.form()
    check_csrf(request, str(form.get("csrf", "")))
    values = {k: str(form.get(k, "")) for k in ("outcome", "explanation")}
    try:
        with unit_of_work(rt.sessions) as session:
            actor = console_actor(request, session)
            appeal = appeals.decide_appeal(
                session, rt.settings, appeal_id=appeal_id, actor=actor, **values
            )
            appeal_id = appeal.id
    except RightfulError as exc:
        if exc.status in (401, 403, 404):
            raise
        return appeal_detail(request, appeal_id, rt, error=exc.detail, form=values)
    disp.mail_queued()
    return RedirectResponse(f"/admin/appeals/{appeal_id}", status_code=303)


@router.post("/{appeal_id}/extend")
async def extend(
    request: Request,
    appeal_id: str,
    rt: Runtime = Depends(runtime),
    disp: Dispatcher = Depends(dispatcher),
) -> Response:
    """Take the law's extra time to answer (Colorado), with reasons e-mailed to the person."""
    form = await request.form()
    check_csrf(request, str(form.get("csrf", "")))
    values = {"extension_reason": str(form.get("reason", ""))}
    try:
        with unit_of_work(rt.sessions) as session:
            actor = console_actor(request, session)
            appeal = appeals.extend_appeal(
                session,
                rt.settings,
                appeal_id=appeal_id,
                actor=actor,
                reason=values["extension_reason"],
            )
            appeal_id = appeal.id
    except RightfulError as exc:
        if exc.status in (401, 403, 404):
            raise
        return appeal_detail(request, appeal_id, rt, error=exc.detail, form=values)
    disp.mail_queued()
    return RedirectResponse(f"/admin/appeals/{appeal_id}", status_code=303)
