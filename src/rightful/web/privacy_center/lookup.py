"""Checking on a request without its link: the reference and the address, and a fresh link
by e-mail. The page says the same whatever was typed (rights/lookup.py)."""

from __future__ import annotations

from fastapi import Depends, Request
from fastapi.responses import Response

from rightful.core.db import unit_of_work
from rightful.core.errors import InvalidInputError, RateLimitedError
from rightful.core.i18n import N_
from rightful.core.runtime import Runtime
from rightful.identity import normalize
from rightful.rights import lookup
from rightful.web.deps import check_csrf, client_address, dispatcher, runtime
from rightful.web.pages import render
from rightful.web.routing import DeferredRouter
from rightful.worker.dispatch import Dispatcher

router = DeferredRouter()
PAGE = "privacy_center/lookup.html"
NO_EMAIL = N_("Enter the e-mail address you made the request with.")
NO_REFERENCE = N_("Enter the reference from our e-mail, such as R-7KQ3MXP9.")
SUMMARY = N_("Some details need attention.")


@router.get("/requests/lookup")
def lookup_page(request: Request) -> Response:
    """Ask for the reference and the address."""
    return render(request, PAGE, values={}, errors={}, summary="")


@router.post("/requests/lookup")
async def send_link(
    request: Request, rt: Runtime = Depends(runtime), disp: Dispatcher = Depends(dispatcher)
) -> Response:
    """E-mail a fresh status link when the two belong together; say the same either way."""
    form = await request.form()
    check_csrf(request, str(form.get("csrf", "")))
    values = {k: str(form.get(k, "")).strip()[:254] for k in ("email", "reference")}
    errors = {}
    try:
        email = normalize.email(values["email"]) if values["email"] else ""
    except InvalidInputError:
        email = ""
    if not email:
        errors["email"] = NO_EMAIL
    if not lookup.normal_reference(values["reference"]):
        errors["reference"] = NO_REFERENCE
    if errors:
        return render(request, PAGE, 422, values=values, errors=errors, summary=SUMMARY)
    try:
        with unit_of_work(rt.sessions) as session:
            sent = lookup.send_status_link(
                session,
                rt.settings,
                email=email,
                reference=values["reference"],
                client=client_address(request),
            )
    except RateLimitedError as exc:
        return render(request, PAGE, 429, values=values, errors={}, summary=exc.detail)
    if sent:
        disp.mail_queued()
    return render(request, "privacy_center/lookup_sent.html")
