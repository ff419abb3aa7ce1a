"""The console's cases: the queue, one case's thread, and what staff do with it."""

from __future__ import annotations

from datetime import date

from fastapi import Depends, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData

from rightful import laws
from rightful.casework import confirm, intake, service
from rightful.casework.replies import reply_templates
from rightful.casework.types import CHANNEL_LABELS, KIND_LABELS, OUTCOMES, STATUS_LABELS
from rightful.core.clock import utcnow
from rightful.core.db import unit_of_work
from rightful.core.errors import (
    ConflictError,
    InvalidInputError,
    RateLimitedError,
    VerificationError,
)
from rightful.core.runtime import Runtime
from rightful.rights.kinds import labels
from rightful.security.permissions import Permission
from rightful.web.admin.access import console_actor
from rightful.web.deps import check_csrf, dispatcher, runtime
from rightful.web.pages import render
from rightful.web.routing import DeferredRouter
from rightful.worker.dispatch import Dispatcher

router = DeferredRouter(prefix="/admin/cases")
# What staff chose in a case's forms, shown again when an action is refused.
KEPT_ON_ERROR = ("request_type", "jurisdiction", "outcome", "text")


@router.get("")
def cases_list(
    request: Request,
    kind: str = "",
    status: str = "open",
    assigned: str = "",
    due: str = "",
    error: str = "",
    rt: Runtime = Depends(runtime),
) -> Response:
    """Every case, open first and soonest due first, filtered; the form for a call or letter."""
    with unit_of_work(rt.sessions) as session:
        actor = console_actor(request, session)
        rows = service.list_cases(
            session, actor=actor, kind=kind, status=status, assigned=assigned, due=due
        )
    return render(
        request,
        "admin/cases.html",
        rows=rows,
        filters={"kind": kind, "status": status, "assigned": assigned, "due": due},
        kinds=KIND_LABELS,
        case_statuses=STATUS_LABELS,
        channels=CHANNEL_LABELS,
        today=utcnow().date(),
        error=error[:300],
    )


@router.get("/{case_id}")
def case_page(
    request: Request,
    case_id: str,
    rt: Runtime = Depends(runtime),
    error: str = "",
    template: str = "",
) -> Response:
    """One case: its thread (an audited read), the response target, and the actions."""
    return _case_view(request, case_id, rt, error=error, template=template)


def _case_view(
    request: Request,
    case_id: str,
    rt: Runtime,
    *,
    error: str = "",
    template: str = "",
    chosen: dict[str, str] | None = None,
) -> Response:
    """The case page; after a refused action, the choices staff made in its form are kept."""
    with unit_of_work(rt.sessions) as session:
        actor = console_actor(request, session)
        case = service.view_case(session, actor=actor, case_id=case_id)
        sender, subject, thread = (
            service.read_case(session, rt.settings, actor=actor, case=case)
            if actor.can(Permission.REQUESTS_READ_PERSONAL)
            else ({}, "", [])
        )
    return render(
        request,
        "admin/case.html",
        case=case,
        sender=sender,
        subject=subject,
        thread=thread,
        overdue=service.overdue(case),
        kinds=KIND_LABELS,
        case_statuses=STATUS_LABELS,
        channels=CHANNEL_LABELS,
        outcomes=OUTCOMES,
        request_types=labels(),
        states=laws.choices(),
        replies=reply_templates(rt.settings.base_url, case.language),  # the person's language
        chosen_template=template,
        chosen=chosen or {},
        error=error,
    )


async def _act(request: Request, rt: Runtime, case_id: str, action: str) -> tuple[FormData, str]:
    form = await request.form()
    check_csrf(request, str(form.get("csrf", "")))
    error = ""
    try:
        with unit_of_work(rt.sessions) as session:
            actor = console_actor(request, session)
            value = {k: str(form.get(k, "")).strip() for k in form}
            if action == "assign":
                service.assign(session, actor=actor, case_id=case_id, to=value.get("to"))
            elif action == "reply":
                service.reply(
                    session, rt.settings, actor=actor, case_id=case_id, text=value.get("text", "")
                )
            elif action == "link":
                service.link_request(
                    session, actor=actor, case_id=case_id, request_id=value.get("request", "")
                )
            elif action == "close":
                service.close(
                    session, actor=actor, case_id=case_id, outcome=value.get("outcome", "")
                )
            elif action == "confirm":
                confirm.confirm_by_staff(
                    session,
                    rt.settings,
                    actor=actor,
                    case_id=case_id,
                    request_type=value.get("request_type", ""),
                    jurisdiction=value.get("jurisdiction", ""),
                )
    except InvalidInputError as exc:
        error = "; ".join([exc.detail, *(e["message"] for e in exc.errors)])
    except (ConflictError, VerificationError, RateLimitedError) as exc:
        error = exc.detail  # refusals (403) and unknown cases (404) are answered as such
    return form, error


async def _case_action(
    request: Request, rt: Runtime, disp: Dispatcher, case_id: str, action: str
) -> Response:
    form, error = await _act(request, rt, case_id, action)
    if error:
        kept = {k: str(form.get(k, "")) for k in KEPT_ON_ERROR}
        return _case_view(request, case_id, rt, error=error, chosen=kept)
    disp.mail_queued()
    return RedirectResponse(f"/admin/cases/{case_id}", status_code=303)


@router.post("/{case_id}/assign")
async def assign_case(
    request: Request,
    case_id: str,
    rt: Runtime = Depends(runtime),
    disp: Dispatcher = Depends(dispatcher),
) -> Response:
    """Give the case to a staff member."""
    return await _case_action(request, rt, disp, case_id, "assign")


@router.post("/{case_id}/reply")
async def reply_case(
    request: Request,
    case_id: str,
    rt: Runtime = Depends(runtime),
    disp: Dispatcher = Depends(dispatcher),
) -> Response:
    """E-mail the person an answer."""
    return await _case_action(request, rt, disp, case_id, "reply")


@router.post("/{case_id}/link")
async def link_case(
    request: Request,
    case_id: str,
    rt: Runtime = Depends(runtime),
    disp: Dispatcher = Depends(dispatcher),
) -> Response:
    """Link an existing rights request."""
    return await _case_action(request, rt, disp, case_id, "link")


@router.post("/{case_id}/confirm")
async def confirm_case(
    request: Request,
    case_id: str,
    rt: Runtime = Depends(runtime),
    disp: Dispatcher = Depends(dispatcher),
) -> Response:
    """Open a rights request from the case (the person verifies it)."""
    return await _case_action(request, rt, disp, case_id, "confirm")


@router.post("/{case_id}/close")
async def close_case(
    request: Request,
    case_id: str,
    rt: Runtime = Depends(runtime),
    disp: Dispatcher = Depends(dispatcher),
) -> Response:
    """Close the case with an outcome."""
    return await _case_action(request, rt, disp, case_id, "close")


@router.post("")
async def record_case(
    request: Request, rt: Runtime = Depends(runtime), disp: Dispatcher = Depends(dispatcher)
) -> Response:
    """Staff write down a call or a letter as a case."""
    form = await request.form()
    check_csrf(request, str(form.get("csrf", "")))
    value = {k: str(form.get(k, "")).strip() for k in form}
    try:
        with unit_of_work(rt.sessions) as session:
            actor = console_actor(request, session)
            case = intake.by_staff(
                session,
                rt.settings,
                actor=actor,
                kind=value.get("kind", ""),
                channel=value.get("channel", ""),
                message=value.get("message", ""),
                email=value.get("email", ""),
                name=value.get("name", ""),
                received_on=date.fromisoformat(value["received_on"])
                if value.get("received_on")
                else None,
            )
            case_id = case.id
    except (InvalidInputError, ValueError) as exc:
        detail = "Check the date."
        if isinstance(exc, InvalidInputError):
            detail = "; ".join([exc.detail, *(e["message"] for e in exc.errors)])
        return RedirectResponse(f"/admin/cases?error={detail[:200]}", status_code=303)
    disp.mail_queued()
    return RedirectResponse(f"/admin/cases/{case_id}", status_code=303)
