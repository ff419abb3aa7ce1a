"""One-click unsubscribe (RFC 8058) and the list-removal page. Work without JavaScript.

The signed token in the URL is the permission; it names a pseudonymous id and a topic, never
an address. A GET only ever asks: mail scanners follow links.
"""

from __future__ import annotations

from fastapi import Depends, Request
from fastapi.responses import PlainTextResponse, Response
from starlette.datastructures import FormData

from rightful.consent import catalog, links, service
from rightful.consent.propagation import LEGAL_BUSINESS_DAYS, TARGET_HOURS
from rightful.core.db import unit_of_work
from rightful.core.errors import VerificationError
from rightful.core.runtime import Runtime
from rightful.web.deps import check_csrf, dispatcher, runtime
from rightful.web.errors import problem
from rightful.web.pages import render
from rightful.web.privacy_center.consent_forms import address_form, ask_for_link, link_error
from rightful.web.routing import DeferredRouter
from rightful.worker.dispatch import Dispatcher

router = DeferredRouter()
ONE_CLICK_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
TIMING = {"target_hours": TARGET_HOURS, "legal_days": LEGAL_BUSINESS_DAYS}


def _is_one_click(request: Request, form: FormData) -> bool:
    """RFC 8058: a mailbox provider POSTs exactly `List-Unsubscribe=One-Click`, as a form,
    with no cookies and so no CSRF token; the signed token in the URL is the permission."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    items = [(k, str(v)) for k, v in form.multi_items()]
    return kind in ONE_CLICK_TYPES and items == [("List-Unsubscribe", "One-Click")]


@router.get("/unsubscribe/{token}")
def unsubscribe_page(request: Request, token: str, rt: Runtime = Depends(runtime)) -> Response:
    """Ask once. A GET never unsubscribes: mail scanners follow links."""
    try:
        with unit_of_work(rt.sessions) as session:
            title = service.unsubscribe_topic(session, rt.settings, token)
            topic = links.unsubscribe_target(rt.settings, token).topic
    except VerificationError as exc:
        return link_error(request, exc, again="/preferences")
    everything = topic == catalog.ALL_MARKETING
    return render(
        request, "preferences/unsubscribe.html", token=token, title=title, everything=everything
    )


@router.post("/unsubscribe/{token}")
async def unsubscribe(request: Request, token: str, rt: Runtime = Depends(runtime)) -> Response:
    """The RFC 8058 one-click POST, or the person's press on the confirmation page."""
    form = await request.form()
    if _is_one_click(request, form):
        try:
            with unit_of_work(rt.sessions) as session:
                service.unsubscribe(session, rt.settings, token=token, one_click=True)
        except VerificationError as exc:
            return problem(400, exc.title, exc.detail, code=exc.code, instance="/unsubscribe")
        return PlainTextResponse("Unsubscribed.\n")
    check_csrf(request, str(form.get("csrf", "")))
    try:
        with unit_of_work(rt.sessions) as session:
            done = service.unsubscribe(
                session, rt.settings, token=token, everything=form.get("scope") == "all"
            )
    except VerificationError as exc:
        return link_error(request, exc, again="/preferences")
    return render(request, "preferences/unsubscribed.html", done=done, **TIMING)


# --- list removal -------------------------------------------------------------------------------


@router.get("/list-removal")
def list_removal(request: Request) -> Response:
    """Take an address off every marketing list: only the address is asked for."""
    return address_form(request, "preferences/list_removal.html")


@router.post("/list-removal")
async def ask_list_removal(
    request: Request, rt: Runtime = Depends(runtime), disp: Dispatcher = Depends(dispatcher)
) -> Response:
    """E-mail a confirmation link, whatever the address."""
    return await ask_for_link(
        request, rt, disp, page="preferences/list_removal.html", send=service.send_list_removal_link
    )


@router.get("/list-removal/confirm/{token}")
def list_removal_page(request: Request, token: str, rt: Runtime = Depends(runtime)) -> Response:
    """One button to confirm; opening the link alone changes nothing."""
    try:
        links.list_removal_subject(rt.settings, token)
    except VerificationError as exc:
        return link_error(request, exc, again="/list-removal")
    return render(request, "preferences/list_removal_confirm.html", token=token, done=False)


@router.post("/list-removal/confirm/{token}")
async def confirm_list_removal(
    request: Request, token: str, rt: Runtime = Depends(runtime)
) -> Response:
    """Suppress the address on every marketing channel."""
    form = await request.form()
    check_csrf(request, str(form.get("csrf", "")))
    proof = {"method": "list-removal page, confirmed from the e-mailed link"}
    try:
        with unit_of_work(rt.sessions) as session:
            service.confirm_list_removal(session, rt.settings, token=token, proof=proof)
    except VerificationError as exc:
        return link_error(request, exc, again="/list-removal")
    return render(
        request, "preferences/list_removal_confirm.html", token=token, done=True, **TIMING
    )
