"""The privacy center's contact form (questions, concerns, complaints) and the page where
someone who e-mailed the privacy office confirms the request their message asks for."""

from __future__ import annotations

from typing import Any

from fastapi import Depends, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from rightful import laws
from rightful.casework import confirm, intake
from rightful.casework.types import Kind
from rightful.core.db import unit_of_work
from rightful.core.errors import (
    ConflictError,
    InvalidInputError,
    RateLimitedError,
    VerificationError,
)
from rightful.core.i18n import N_
from rightful.core.runtime import Runtime
from rightful.rights import service as rights_service
from rightful.rights.declaration import needed
from rightful.rights.kinds import labels
from rightful.web.deps import check_csrf, client_address, dispatcher, runtime
from rightful.web.i18n import language_of
from rightful.web.pages import render
from rightful.web.privacy_center import signing
from rightful.web.routing import DeferredRouter
from rightful.worker.dispatch import Dispatcher

router = DeferredRouter()
SUMMARY = N_("Some details need attention.")
CONTACT_KINDS = {
    Kind.QUESTION.value: N_("A question"),
    Kind.CONCERN.value: N_("A concern"),
    Kind.COMPLAINT.value: N_("A complaint"),
}


def _contact(
    request: Request,
    values: dict[str, str],
    errors: dict[str, str],
    status: int = 200,
    summary: str = "",
) -> Response:
    return render(
        request,
        "privacy_center/contact.html",
        status,
        values=values,
        errors=errors,
        summary=summary,
        kinds=CONTACT_KINDS,
    )


@router.get("/contact")
def contact_page(request: Request) -> Response:
    """Ask a question or make a complaint."""
    return _contact(request, {"kind": "question"}, {})


@router.post("/contact")
async def send_contact(
    request: Request, rt: Runtime = Depends(runtime), disp: Dispatcher = Depends(dispatcher)
) -> Response:
    """Record the message as a case and e-mail its reference."""
    form = await request.form()
    check_csrf(request, str(form.get("csrf", "")))
    values = {k: str(form.get(k, "")).strip() for k in ("kind", "message", "email")}
    try:
        with unit_of_work(rt.sessions) as session:
            intake.from_contact_form(
                session,
                rt.settings,
                kind=values["kind"],
                message=values["message"],
                email=values["email"],
                client=client_address(request),
                language=language_of(request),
            )
    except InvalidInputError as exc:
        errors = {e["field"]: e["message"] for e in exc.errors}
        return _contact(request, values, errors, 422, SUMMARY)
    except RateLimitedError as exc:
        return _contact(request, values, {}, 429, exc.detail)
    disp.mail_queued()
    return render(request, "privacy_center/contact_sent.html")


def _confirm(
    request: Request,
    token: str,
    values: dict[str, Any],
    errors: dict[str, str],
    status: int = 200,
    summary: str = "",
) -> Response:
    return render(
        request,
        "privacy_center/case_confirm.html",
        status,
        token=token,
        values=values,
        errors=errors,
        summary=summary,
        kinds=labels(),
        states=laws.choices(),
        **signing.page_context(request, values),
    )


@router.get("/cases/confirm/{token}")
def confirm_page(request: Request, token: str, rt: Runtime = Depends(runtime)) -> Response:
    """What would you like us to do? The type the message suggested is chosen already."""
    with unit_of_work(rt.sessions) as session:
        case = confirm.case_from_link(session, rt.settings, token)
        if case.request_id is not None:
            return render(request, "privacy_center/case_confirmed.html", already=True)
        chosen = case.suggested_type or ""
    return _confirm(
        request, token, {"request_type": chosen, "jurisdiction": signing.DEFAULT_STATE}, {}
    )


@router.post("/cases/confirm/{token}")
async def confirm_submit(
    request: Request,
    token: str,
    rt: Runtime = Depends(runtime),
    disp: Dispatcher = Depends(dispatcher),
) -> Response:
    """Make the request, as the web form does; the person then verifies with the code."""
    form = await request.form()
    check_csrf(request, str(form.get("csrf", "")))
    values = {
        k: str(form.get(k, "")).strip()
        for k in ("request_type", "jurisdiction", "declaration_signature")
    }
    errors: dict[str, str] = {}
    if values["request_type"] not in labels():
        errors["request_type"] = N_("Choose what you would like us to do.")
    if values["jurisdiction"] not in dict(laws.choices()):
        errors["jurisdiction"] = N_("Choose the state you live in.")
    elif (
        not errors
        and needed(rt.settings, values["request_type"], values["jurisdiction"])
        and not values["declaration_signature"]
    ):
        errors["declaration_signature"] = N_("Type your full name to sign the declaration.")
    else:
        # A name typed under the text of the place shown first is not a signature of the
        # place chosen after (without JavaScript the text does not follow the choice).
        shown = str(form.get("declaration_jurisdiction") or signing.DEFAULT_STATE)
        errors |= signing.sign_again(rt.settings, shown, values, language_of(request))
    if errors:
        return _confirm(request, token, values, errors, 422, SUMMARY)
    try:
        with unit_of_work(rt.sessions) as session:
            case = confirm.case_from_link(session, rt.settings, token)
            req = confirm.confirm_request(
                session,
                rt.settings,
                case,
                request_type=values["request_type"],
                jurisdiction=values["jurisdiction"],
                signature=values["declaration_signature"] or None,
                language=language_of(request),
                actor="consumer",
                client=client_address(request),
            )
            target = rights_service.status_url(rt.settings, req.id)
    except ConflictError:
        return render(request, "privacy_center/case_confirmed.html", already=True)
    except (InvalidInputError, ValidationError) as exc:
        detail = exc.detail if isinstance(exc, InvalidInputError) else SUMMARY
        return _confirm(request, token, values, {}, 422, detail)
    except RateLimitedError as exc:
        return _confirm(request, token, values, {}, 429, exc.detail)
    except VerificationError:
        raise
    disp.mail_queued()
    return RedirectResponse(target.removeprefix(rt.settings.base_url), status_code=303)
