"""What the public consent pages share: asking for an address, sending a link within limits
(messaging/limits.py), and the page a broken link shows."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Request
from fastapi.responses import Response

from rightful.consent import service
from rightful.core.db import unit_of_work
from rightful.core.errors import InvalidInputError, RateLimitedError, VerificationError
from rightful.core.i18n import N_
from rightful.core.runtime import Runtime
from rightful.identity import normalize
from rightful.messaging import limits
from rightful.web.deps import check_csrf, client_address
from rightful.web.i18n import language_of
from rightful.web.pages import render
from rightful.worker.dispatch import Dispatcher

Sender = Callable[..., None]


async def ask_for_link(
    request: Request, rt: Runtime, disp: Dispatcher, *, page: str, send: Sender
) -> Response:
    """The shared "enter your address" step: the same answer for every valid address."""
    form = await request.form()
    check_csrf(request, str(form.get("csrf", "")))
    typed = str(form.get("email", "")).strip()[:254]
    try:
        address = normalize.email(typed) if typed else ""
        if not address:
            raise InvalidInputError(N_("Enter your e-mail address."), errors=[email_error()])
        client = client_address(request)
        with unit_of_work(rt.sessions) as session:
            queued = limits.may_send(
                session, rt.settings, limits.CONSENT_LINKS, address=address, client=client
            )
            if queued:
                send(session, rt.settings, email=address, language=language_of(request))
        if queued:
            disp.mail_queued()
    except InvalidInputError as exc:
        errors = {e["field"]: e["message"] for e in exc.errors}
        return address_form(request, page, 422, typed, errors=errors)
    except RateLimitedError as exc:
        return address_form(request, page, 429, typed, summary=exc.detail)
    removal = send is service.send_list_removal_link
    return render(request, "preferences/link_sent.html", list_removal=removal)


def address_form(
    request: Request,
    page: str,
    status: int = 200,
    typed: str = "",
    *,
    errors: dict[str, str] | None = None,
    summary: str = "",
    notice: str = "",
) -> Response:
    """The page that asks for an address, with what was typed and what is wrong with it."""
    return render(
        request,
        page,
        status,
        values={"email": typed},
        errors=errors or {},
        summary=summary or (N_("There is a problem with the address.") if errors else ""),
        notice=notice,
    )


def email_error() -> dict[str, str]:
    return {"field": "email", "message": N_("Enter your e-mail address.")}


def link_error(
    request: Request,
    exc: VerificationError,
    *,
    again: str,
    title: str = N_("This link does not work"),
) -> Response:
    return render(
        request, "preferences/link_error.html", 400, title=title, detail=exc.detail, again=again
    )
