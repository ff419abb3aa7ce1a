"""The console's intake desk: record a request that came by post, by phone or in person; the
identity check, agents' and parents' permissions, documents and printable letters of a request.
"""

from __future__ import annotations

from typing import Any

from fastapi import Depends, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from starlette.datastructures import FormData, UploadFile

from rightful import laws
from rightful.core.clock import utcnow
from rightful.core.db import unit_of_work
from rightful.core.errors import InvalidInputError, NotFoundError, RightfulError
from rightful.core.runtime import Runtime
from rightful.rights import agents, intake
from rightful.rights import service as rights_service
from rightful.rights.correction_values import CORRECTABLE
from rightful.rights.schemas import RequestIn
from rightful.rights.types import Status
from rightful.web.admin.access import console_actor
from rightful.web.admin.routes import request_detail
from rightful.web.deps import check_csrf, dispatcher, runtime
from rightful.web.pages import render
from rightful.web.params import RowId
from rightful.web.routing import DeferredRouter
from rightful.worker.dispatch import Dispatcher

router = DeferredRouter(prefix="/admin/intake")
FIELDS = (
    "channel",
    "received_at",
    "request_type",
    "jurisdiction",
    "name",
    "email",
    "phone_number",
    "postal_code",
    "postal_address",
    "date_range",
    "declaration_signature",
    "correction_item",
    "correction_value",
    "identity_method",
    "identity_note",
    "requester_role",
    "requester_name",
    "requester_email",
    "relation_attested",
)
# The schema speaks to the person filing; at the desk, staff type what someone else sent.
STAFF_WORDS = {
    "requester_name": "Enter the agent's or the parent's name as their letter gives it.",
    "requester_email": "Enter the agent's or the parent's e-mail address: Rightful writes to them.",
    "relation_attested": "Record that the letter declares the writer is the child's parent or "
    "legal guardian.",
    "name": "Enter the child's full name.",
}


def _form(
    request: Request, values: dict[str, Any], errors: dict[str, str], status: int = 200
) -> Response:
    return render(
        request,
        "admin/intake.html",
        http_status=status,
        values=values,
        errors=errors,
        channels=intake.CHANNELS,
        methods=intake.METHODS,
        states=laws.choices(),
        correctables=CORRECTABLE,
        today=utcnow().date().isoformat(),
    )


@router.get("")
def new_intake(request: Request, rt: Runtime = Depends(runtime)) -> Response:
    """The form for a letter, a call or a visit."""
    with unit_of_work(rt.sessions) as session:
        intake.may_record(console_actor(request, session))
    today = utcnow().date().isoformat()
    return _form(
        request, {"channel": "post", "received_at": today, "jurisdiction": "US-CA"}, errors={}
    )


async def _upload(form: FormData, name: str) -> intake.Upload | None:
    item = form.get(name)
    if not isinstance(item, UploadFile) or not item.filename:
        return None
    content = await item.read()
    return intake.Upload(item.filename, item.content_type or "", content)


def _errors(exc: ValidationError | InvalidInputError) -> dict[str, str]:
    if isinstance(exc, InvalidInputError):
        return {e["field"]: e["message"] for e in exc.errors} or {"form": exc.detail}
    found = {}
    for e in exc.errors():
        field = str(e["loc"][0]) if e["loc"] else "form"
        message = str(e["msg"]).removeprefix("Value error, ")
        if field in STAFF_WORDS and (field != "name" or "child" in message):
            message = STAFF_WORDS[field]
        found[field] = message
    return found


@router.post("")
async def record_intake(
    request: Request, rt: Runtime = Depends(runtime), disp: Dispatcher = Depends(dispatcher)
) -> Response:
    """Record the request; on any problem the form comes back with each field's error."""
    form = await request.form()
    letter = await _upload(form, "letter")
    papers = {
        kind: found
        for kind in ("agent_permission", "power_of_attorney", "parent_evidence")
        if (found := await _upload(form, kind)) is not None
    }
    await form.close()  # read: its spooled files go
    check_csrf(request, str(form.get("csrf", "")))
    with unit_of_work(rt.sessions) as session:  # a role that may not gets 403, not field errors
        intake.may_record(console_actor(request, session))
    values = {k: str(form.get(k, "")).strip() for k in FIELDS}
    payload: dict[str, Any] = {k: v for k, v in values.items() if v}
    if payload.get("identity_method") == "not_yet":
        payload.pop("identity_method")
    payload["relation_attested"] = values["relation_attested"] == "yes"
    if payload.get("requester_role", "self") == "self":  # fields of a hidden part of the form
        for key in ("requester_name", "requester_email", "relation_attested"):
            payload.pop(key, None)
    try:
        data = RequestIn.model_validate(payload)
        with unit_of_work(rt.sessions) as session:
            actor = console_actor(request, session)
            req = intake.record(
                session,
                rt.settings,
                data,
                actor=actor,
                via="console",
                letter=letter,
                papers=papers,
            )
            request_id, status = req.id, req.status
    except (ValidationError, InvalidInputError) as exc:
        return _form(request, values, _errors(exc), 422)
    disp.mail_queued()
    if status == Status.EXECUTING.value:
        disp.request_ready(request_id)
    return RedirectResponse(f"/admin/requests/{request_id}", status_code=303)


async def _act(
    request: Request, request_id: str, rt: Runtime, disp: Dispatcher, action: str
) -> Response:
    form = await request.form()
    check_csrf(request, str(form.get("csrf", "")))
    try:
        with unit_of_work(rt.sessions) as session:
            actor = console_actor(request, session)
            kwargs: dict[str, Any] = {"request_id": request_id, "actor": actor}
            if action == "identity":
                req = intake.record_identity_check(
                    session,
                    rt.settings,
                    method=str(form.get("identity_method", "")),
                    note=str(form.get("identity_note", "")),
                    **kwargs,
                )
            elif action == "by-hand":
                req = intake.carry_out_by_hand(
                    session, rt.settings, note=str(form.get("note", "")), **kwargs
                )
            elif action == "ask-consumer":
                req = agents.ask_consumer(session, rt.settings, **kwargs)
            elif action == "permission":
                valid = form.get("valid") == "yes"
                req = agents.record_permission_check(session, rt.settings, valid=valid, **kwargs)
            else:
                raise NotFoundError("There is no such action.")
            req_id, status = req.id, req.status
    except RightfulError as exc:
        if exc.status in (401, 403, 404):
            raise
        return request_detail(request, request_id, rt, error=exc.detail)
    disp.mail_queued()
    if status == Status.EXECUTING.value:
        disp.request_ready(req_id)
    return RedirectResponse(f"/admin/requests/{req_id}", status_code=303)


@router.post("/{request_id}/identity")
async def identity_checked(
    request: Request,
    request_id: str,
    rt: Runtime = Depends(runtime),
    disp: Dispatcher = Depends(dispatcher),
) -> Response:
    """Record how staff checked who wrote or called."""
    return await _act(request, request_id, rt, disp, "identity")


@router.post("/{request_id}/by-hand")
async def by_hand(
    request: Request,
    request_id: str,
    rt: Runtime = Depends(runtime),
    disp: Dispatcher = Depends(dispatcher),
) -> Response:
    """Record a request without e-mail carried out by hand."""
    return await _act(request, request_id, rt, disp, "by-hand")


@router.post("/{request_id}/ask-consumer")
async def ask_consumer(
    request: Request,
    request_id: str,
    rt: Runtime = Depends(runtime),
    disp: Dispatcher = Depends(dispatcher),
) -> Response:
    """Ask the consumer to confirm an agent's request directly."""
    return await _act(request, request_id, rt, disp, "ask-consumer")


@router.post("/{request_id}/permission")
async def permission_checked(
    request: Request,
    request_id: str,
    rt: Runtime = Depends(runtime),
    disp: Dispatcher = Depends(dispatcher),
) -> Response:
    """Record whether the agent's permission or the parent's evidence holds."""
    return await _act(request, request_id, rt, disp, "permission")


@router.get("/{request_id}/documents/{doc_id}")
def open_document(
    request: Request, request_id: str, doc_id: str, rt: Runtime = Depends(runtime)
) -> Response:
    """A document of the request (scanned letter, permission, evidence): the read is audited."""
    with unit_of_work(rt.sessions) as session:
        actor = console_actor(request, session)
        opened = intake.open_request_document(
            session, rt.settings, actor=actor, request_id=request_id, doc_id=doc_id
        )
    safe = "".join(c for c in opened.filename if c.isalnum() or c in "._- ")[:100] or "document"
    return Response(
        opened.content,
        media_type=opened.content_type,
        headers={
            "Content-Disposition": f'inline; filename="{safe}"',
            "X-Content-Type-Options": "nosniff",
        },
    )


@router.get("/{request_id}/letters/{message_id}")
def print_letter(
    request: Request, request_id: str, message_id: RowId, rt: Runtime = Depends(runtime)
) -> Response:
    """A request's acknowledgement or outcome laid out to print and post."""
    with unit_of_work(rt.sessions) as session:
        actor = console_actor(request, session)
        printed = intake.printable_letter(
            session, rt.settings, actor=actor, request_id=request_id, message_id=message_id
        )
        req_id = rights_service.access_request(session, request_id).id
    return render(
        request,
        "admin/intake_letter.html",
        printed=printed,
        letter=printed.letter,
        request_id=req_id,
        today=utcnow().date(),
    )
