"""The page a double opt-in e-mail links to: one button confirms the sign-up, once. A GET only
asks (mail scanners follow links); the signed token names a pseudonymous id, never an address."""

from __future__ import annotations

from fastapi import Depends, Request
from fastapi.responses import Response

from rightful.consent import subscriptions
from rightful.core.db import unit_of_work
from rightful.core.errors import VerificationError
from rightful.core.i18n import N_
from rightful.core.runtime import Runtime
from rightful.web.deps import check_csrf, runtime
from rightful.web.pages import render
from rightful.web.privacy_center.consent_forms import link_error
from rightful.web.routing import DeferredRouter

router = DeferredRouter()


@router.get("/subscribe/confirm/{token}")
def confirm_page(request: Request, token: str, rt: Runtime = Depends(runtime)) -> Response:
    """Show what the sign-up is for, with one Confirm button."""
    try:
        wanted = subscriptions.pending(rt.settings, token)
    except VerificationError as exc:
        return link_error(request, exc, again="/preferences")
    with unit_of_work(rt.sessions) as session:
        titles = subscriptions.titles(session, wanted.topics)
    return render(request, "preferences/subscribe_confirm.html", token=token, topics=titles)


@router.post("/subscribe/confirm/{token}")
async def confirm(request: Request, token: str, rt: Runtime = Depends(runtime)) -> Response:
    """Record the sign-up in the ledger; the link works once, so pressing again records nothing."""
    form = await request.form()
    check_csrf(request, str(form.get("csrf", "")))
    try:
        wanted = subscriptions.pending(rt.settings, token)
    except VerificationError as exc:
        return link_error(request, exc, again="/preferences")
    try:
        with unit_of_work(rt.sessions) as session:
            subscriptions.confirm(session, rt.settings, wanted)
            titles = subscriptions.titles(session, wanted.topics)
    except VerificationError as exc:
        return link_error(request, exc, again="/preferences", title=N_("This link was used"))
    return render(
        request, "preferences/subscribe_confirm.html", token=token, topics=titles, done=True
    )
