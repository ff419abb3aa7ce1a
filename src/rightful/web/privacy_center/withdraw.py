"""Withdrawing a request from its status page: a confirmation step, then the withdrawal
(rights/withdrawal.py). The signed status link is the person's permission."""

from __future__ import annotations

from fastapi import Depends, Request
from fastapi.responses import RedirectResponse, Response

from rightful.core.db import unit_of_work
from rightful.core.runtime import Runtime
from rightful.rights import service
from rightful.rights.kinds import kind_of
from rightful.rights.withdrawal import withdraw, withdrawable
from rightful.web.deps import check_csrf, dispatcher, runtime
from rightful.web.pages import render
from rightful.web.routing import DeferredRouter
from rightful.worker.dispatch import Dispatcher

router = DeferredRouter()


def _request_id(rt: Runtime, token: str) -> str:
    signer = service.status_signer(rt.settings)
    return signer.unsign(token, max_age_seconds=service.STATUS_LINK_SECONDS)


@router.get("/status/{token}/withdraw")
def confirm_page(request: Request, token: str, rt: Runtime = Depends(runtime)) -> Response:
    """Are you sure? (A request already under way goes back to its status page.)"""
    with unit_of_work(rt.sessions) as session:
        req = service.access_request(session, _request_id(rt, token))
        if not withdrawable(req):
            return RedirectResponse(f"/status/{token}", status_code=303)
        reference, label = req.reference, kind_of(req.request_type).label
    return render(
        request, "privacy_center/withdraw.html", token=token, reference=reference, label=label
    )


@router.post("/status/{token}/withdraw")
async def withdraw_request(
    request: Request,
    token: str,
    rt: Runtime = Depends(runtime),
    disp: Dispatcher = Depends(dispatcher),
) -> Response:
    """Withdraw it; a request that started meanwhile gets the error page saying so."""
    form = await request.form()
    check_csrf(request, str(form.get("csrf", "")))
    with unit_of_work(rt.sessions) as session:
        withdraw(session, rt.settings, request_id=_request_id(rt, token), actor=None)
    disp.mail_queued()
    return RedirectResponse(f"/status/{token}", status_code=303)
