"""The privacy office's console: requests, their timelines, approvals, the outbox, the data map."""

from __future__ import annotations

from typing import Any

from fastapi import Depends, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from rightful.core.clock import utcnow
from rightful.core.db import unit_of_work
from rightful.core.errors import NotFoundError, RightfulError
from rightful.core.runtime import Runtime
from rightful.inventory.models import Partner
from rightful.inventory.revision import load_map
from rightful.inventory.service import summary as inventory_summary
from rightful.messaging import staff as outbox_desk
from rightful.rights import appeals, partners, service, tasks, transfers
from rightful.rights import due as clocks
from rightful.rights import staff as desk
from rightful.rights.denial_basis import CHOICES as DENIAL_CHOICES
from rightful.rights.erasure import preview
from rightful.rights.erasure_plan import done_lines
from rightful.rights.kinds import kind_of
from rightful.rights.models import ExecutionStep, PartnerNotice, RightsRequest
from rightful.rights.types import OPEN, STAFF_STATUS_LABELS, Status
from rightful.rights.withdrawal import withdraw
from rightful.security.permissions import Actor, Permission
from rightful.web.admin.access import console_actor
from rightful.web.admin.intake_view import request_page_context
from rightful.web.admin.laws_view import request_law_context
from rightful.web.deps import check_csrf, dispatcher, runtime
from rightful.web.pages import render
from rightful.web.params import RowId
from rightful.web.routing import DeferredRouter
from rightful.worker.dispatch import Dispatcher

router = DeferredRouter(prefix="/admin")


@router.get("")
def requests_list(
    request: Request, status: str = "", due: str = "", rt: Runtime = Depends(runtime)
) -> Response:
    """All requests, open ones first, soonest due first; marked when due soon or overdue."""
    with unit_of_work(rt.sessions) as session:
        actor = console_actor(request, session)
        rows = desk.list_requests(session, actor=actor, status=status or None)
        marks = clocks.console_marks(session, rt.settings, actor=actor, requests=rows)
        if due in clocks.FILTERS:
            rows = clocks.due_filtered(session, rt.settings, actor=actor, requests=rows, which=due)
    return render(
        request,
        "admin/requests.html",
        rows=rows,
        status=status,
        open_statuses={s.value for s in OPEN},
        marks=marks,
        due=due if due in clocks.FILTERS else "",
        due_filters=clocks.FILTERS,
    )


@router.get("/requests/{request_id}")
def request_detail(
    request: Request, request_id: str, rt: Runtime = Depends(runtime), error: str = ""
) -> Response:
    """One request with its timeline and steps; its identities, previews and e-mails for the
    roles that may read them (each read of identities is audited)."""
    with unit_of_work(rt.sessions) as session:
        actor = console_actor(request, session)
        req = desk.view_request(session, actor=actor, request_id=request_id)
        ctx_identities = (
            desk.read_identities(session, rt.settings, actor=actor, req=req)
            if actor.can(Permission.REQUESTS_READ_PERSONAL)
            else {}
        )
        data_map = load_map(session)
        ctx: dict[str, Any] = {
            "req": req,
            "denial_bases": DENIAL_CHOICES,
            "identities": ctx_identities,
            "timeline": desk.timeline(session, actor=actor, request_id=req.id),
            "steps": list(
                session.query(ExecutionStep).filter_by(request_id=req.id).order_by(ExecutionStep.id)
            ),
            "letters": (
                outbox_desk.request_letters(session, actor=actor, request_id=req.id)
                if actor.can(Permission.OUTBOX_READ)
                else []
            ),
            "type_label": kind_of(req.request_type).label,
            "status_label": STAFF_STATUS_LABELS[Status(req.status)],
            "error": error,
            "manual": not kind_of(req.request_type).automated,
            "preview": _erasure_preview(session, rt, req, actor),
            "correction": _correction_review(session, rt, req, actor, ctx_identities),
            "notices": list(
                session.scalars(select(PartnerNotice).where(PartnerNotice.request_id == req.id))
            ),
            "today": utcnow().date(),
            "partner_names": {p.key: p.name for p in session.scalars(select(Partner))},
            "system_names": {s.key: s.name for s in data_map.systems.values()},
            # Manual tasks the request waits on (no personal data: system, owner, due date).
            "tasks": [tasks.task_view(data_map, t, req) for t in tasks.tasks_of(session, req.id)],
            **request_page_context(session, rt.settings, actor, req),
            **request_law_context(rt.settings, req),
            "marks": clocks.console_marks(session, rt.settings, actor=actor, requests=[req]).get(
                req.id, []
            ),
            "appeal": appeals.appeal_of(session, req.id),
            # A portable copy sent on: its recipient only for those who read personal data.
            "transfer": transfers.view(
                session,
                rt.settings,
                req.id,
                with_recipient=actor.can(Permission.REQUESTS_READ_PERSONAL),
            ),
        }
    return render(request, "admin/request.html", **ctx)


def _correction_review(
    session: Session, rt: Runtime, req: RightsRequest, actor: Actor, identities: dict[str, str]
) -> dict[str, Any] | None:
    # Staff review the change before approving; once done, the record lists what changed.
    # It shows the person's values: only for roles that read personal data (and audited).
    if req.request_type != "correct" or req.verification_level < req.required_level:
        return None
    if req.reply_by == "post":  # no e-mail to find the records by: staff do it by hand
        return None
    if not actor.can(Permission.REQUESTS_READ_PERSONAL):
        return None
    review: dict[str, Any] = {
        "evidence": identities.get("correction_evidence"),
        "error": None,
        "done": "corrected" in req.summary,
        "changes": [],
    }
    if review["done"]:
        review["changes"] = req.summary["corrected"]
        return review
    try:
        review["changes"] = desk.review_correction(
            session, rt.settings, actor=actor, request_id=req.id
        )
    except RightfulError as exc:
        review["error"] = exc.detail
    return review


def _erasure_preview(
    session: Session, rt: Runtime, req: RightsRequest, actor: Actor
) -> dict[str, Any] | None:
    # Shown on verified deletion requests; a missing policy or unreachable store is explained.
    if req.request_type != "delete" or req.verification_level < req.required_level:
        return None
    if req.reply_by == "post":  # no e-mail to find the records by: staff do it by hand
        return None
    if not actor.can(Permission.REQUESTS_PREPARE):
        return None
    if "erasure" in req.summary:  # done: show the record of what was done, not a new preview
        rows = [
            {
                **item,
                # Rows the store reported changed; kept rows are counted as kept.
                "rows": item["rows"] if item["action"] == "retain_rows" else item["changed"],
                "masks": [{"name": f, "strategy": "removed"} for f in item["fields"]],
            }
            for item in done_lines(req.summary["erasure"])
        ]
        rows += [
            {**item, "action": "not_erased", "masks": [], "legal_basis": None}
            for item in req.summary.get("not_erased", [])
        ]
        return {"rows": rows, "error": None, "done": True}
    if Status(req.status) not in OPEN:  # closed without an erasure: nothing will be deleted
        return None
    try:
        return {
            "rows": preview(session, rt.settings, request_id=req.id, actor=actor),
            "error": None,
        }
    except RightfulError as exc:
        return {"rows": [], "error": exc.detail}


@router.post("/requests/{request_id}/{action}")
async def act(
    request: Request,
    request_id: str,
    action: str,
    rt: Runtime = Depends(runtime),
    disp: Dispatcher = Depends(dispatcher),
) -> Response:
    """Approve, deny, extend, complete or withdraw; errors come back on the same page."""
    form = await request.form()
    check_csrf(request, str(form.get("csrf", "")))
    reason = str(form.get("reason", ""))
    try:
        with unit_of_work(rt.sessions) as session:
            actor = console_actor(request, session)
            kwargs: dict[str, Any] = {"request_id": request_id, "actor": actor}
            if action == "approve":
                req = service.approve_request(session, rt.settings, **kwargs)
            elif action == "deny":
                basis = str(form.get("basis", "")) or None
                req = service.deny_request(
                    session, rt.settings, reason=reason, basis=basis, **kwargs
                )
            elif action == "extend":
                req = service.extend_request(session, rt.settings, reason=reason, **kwargs)
            elif action == "waive":
                partners.waive(
                    session,
                    request_id=request_id,
                    actor=actor,
                    reason=reason,
                    explanation=str(form.get("explanation", "")),
                    partner_key=str(form.get("partner", "")),
                )
                req = service.access_request(session, request_id)
            elif action == "complete":
                req = service.complete_manually(session, rt.settings, note=reason, **kwargs)
            elif action == "withdraw":  # the person asked by phone or letter
                req = withdraw(session, rt.settings, **kwargs)
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


@router.get("/outbox")
def outbox(request: Request, rt: Runtime = Depends(runtime)) -> Response:
    """Every e-mail the system sent or recorded."""
    with unit_of_work(rt.sessions) as session:
        actor = console_actor(request, session)
        letters = outbox_desk.outbox_letters(session, rt.settings, actor=actor)
    return render(request, "admin/outbox.html", letters=letters)


@router.get("/outbox/{message_id}")
def letter(request: Request, message_id: RowId, rt: Runtime = Depends(runtime)) -> Response:
    """One e-mail as the recipient reads it."""
    with unit_of_work(rt.sessions) as session:
        actor = console_actor(request, session)
        opened = outbox_desk.read_letter(session, rt.settings, actor=actor, message_id=message_id)
    done = (
        "Queued again: the mail worker sends it now."
        if request.query_params.get("resent")
        else None
    )
    return render(request, "admin/letter.html", letter=opened, done=done)


@router.post("/outbox/{message_id}/resend")
async def resend_letter(
    request: Request,
    message_id: RowId,
    rt: Runtime = Depends(runtime),
    disp: Dispatcher = Depends(dispatcher),
) -> Response:
    """Send a failed or waiting e-mail again (the mail worker sends it on its next pass)."""
    form = await request.form()
    check_csrf(request, str(form.get("csrf", "")))
    try:
        with unit_of_work(rt.sessions) as session:
            actor = console_actor(request, session)
            outbox_desk.resend(session, rt.settings, actor=actor, message_id=message_id)
    except RightfulError as exc:
        if exc.status != 409:
            raise
        with unit_of_work(rt.sessions) as session:
            actor = console_actor(request, session)
            opened = outbox_desk.read_letter(
                session, rt.settings, actor=actor, message_id=message_id
            )
        return render(request, "admin/letter.html", letter=opened, error=exc.detail)
    disp.mail_queued()
    return RedirectResponse(f"/admin/outbox/{message_id}?resent=1", status_code=303)


@router.get("/data-map")
def data_map(request: Request, rt: Runtime = Depends(runtime)) -> Response:
    """Systems, datasets, partners and disclosures."""
    with unit_of_work(rt.sessions) as session:
        actor = console_actor(request, session)
        data = inventory_summary(session, actor=actor)
    return render(request, "admin/data_map.html", data=data)
