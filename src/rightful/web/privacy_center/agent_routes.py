"""Where a consumer confirms or refuses a request an authorized agent made for them.

The signed link in the e-mail staff had sent is the permission; a GET only ever asks (mail
scanners follow links), the answer is a POST from the page.
"""

from __future__ import annotations

from typing import Any

from fastapi import Depends, Request
from fastapi.responses import Response

from rightful.core.db import unit_of_work
from rightful.core.runtime import Runtime
from rightful.rights import agents
from rightful.rights.kinds import kind_of
from rightful.rights.types import OPEN, Status
from rightful.web.deps import check_csrf, dispatcher, runtime
from rightful.web.pages import render
from rightful.web.routing import DeferredRouter
from rightful.worker.dispatch import Dispatcher

router = DeferredRouter()


@router.get("/confirm-agent/{token}")
def confirm_page(request: Request, token: str, rt: Runtime = Depends(runtime)) -> Response:
    """The question: did you give this agent permission?"""
    with unit_of_work(rt.sessions) as session:
        req = agents.request_to_confirm(session, rt.settings, token=token)
        ctx: dict[str, Any] = {
            "reference": req.reference,
            "type_label": kind_of(req.request_type).label,
            "answer": req.consumer_confirmation,
            "open": Status(req.status) in OPEN,
        }
    return render(request, "privacy_center/confirm_agent.html", token=token, **ctx)


@router.post("/confirm-agent/{token}")
async def confirm_answer(
    request: Request,
    token: str,
    rt: Runtime = Depends(runtime),
    disp: Dispatcher = Depends(dispatcher),
) -> Response:
    """Record yes or no; the page then says what happens next."""
    form = await request.form()
    check_csrf(request, str(form.get("csrf", "")))
    with unit_of_work(rt.sessions) as session:
        req = agents.answer(
            session, rt.settings, token=token, confirmed=form.get("answer") == "yes"
        )
        ctx: dict[str, Any] = {
            "reference": req.reference,
            "type_label": kind_of(req.request_type).label,
            "answer": req.consumer_confirmation,
            "open": Status(req.status) in OPEN,
        }
    disp.mail_queued()
    return render(request, "privacy_center/confirm_agent.html", token=token, **ctx)
