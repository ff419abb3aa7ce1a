"""The console's manual tasks: the signed-in member's queue (everyone's for those who decide
requests), a task with whom it is for (audited) and the forms to complete or waive it."""

from __future__ import annotations

from typing import Any

from fastapi import Depends, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import UploadFile

from rightful.core.db import unit_of_work
from rightful.core.errors import InvalidInputError, RightfulError
from rightful.core.runtime import Runtime
from rightful.rights import tasks
from rightful.security.permissions import Permission
from rightful.web.admin.access import console_actor
from rightful.web.deps import check_csrf, dispatcher, runtime
from rightful.web.pages import render
from rightful.web.routing import DeferredRouter
from rightful.worker.dispatch import Dispatcher

router = DeferredRouter(prefix="/admin/tasks")
SHOW = {"open": "Open", "done": "Done", "waived": "Waived", "": "All"}


@router.get("")
def task_list(
    request: Request, status: str = "open", everyone: bool = False, rt: Runtime = Depends(runtime)
) -> Response:
    """My tasks (or everyone's), open first, soonest due first; no personal data."""
    status = status if status in SHOW else "open"
    with unit_of_work(rt.sessions) as session:
        actor = console_actor(request, session)
        manager = actor.can(Permission.REQUESTS_DECIDE)
        rows = tasks.list_tasks(
            session, actor=actor, everyone=everyone and manager, status=status or None
        )
    return render(
        request,
        "admin/tasks.html",
        rows=rows,
        status=status,
        shows=SHOW,
        everyone=everyone and manager,
        manager=manager,
    )


@router.get("/{task_id}")
def task_detail(
    request: Request,
    task_id: str,
    rt: Runtime = Depends(runtime),
    errors: dict[str, str] | None = None,
    form: dict[str, Any] | None = None,
) -> Response:
    """One task: what to do where, for whom (read personal data: audited), and its forms."""
    with unit_of_work(rt.sessions) as session:
        actor = console_actor(request, session)
        view = tasks.access_task(session, actor=actor, task_id=task_id)
        personal = actor.can(Permission.REQUESTS_READ_PERSONAL)
        ctx: dict[str, Any] = {
            "view": view,
            "task": view.task,
            "subject": tasks.read_subject(session, rt.settings, actor=actor, view=view)
            if personal
            else None,
            "findings": tasks.read_findings(session, rt.settings, actor=actor, view=view)
            if personal
            else [],
            "outcomes": tasks.OUTCOMES[view.task.kind],
            "task_statuses": tasks.STATUS_LABELS,
            "errors": errors or {},
            "form": form or {},
        }
    return render(request, "admin/task.html", 422 if errors else 200, **ctx)


@router.post("/{task_id}/complete")
async def complete(
    request: Request,
    task_id: str,
    rt: Runtime = Depends(runtime),
    disp: Dispatcher = Depends(dispatcher),
) -> Response:
    """Enter findings or confirm the erasure; errors come back on the page with what was typed."""
    form = await request.form()
    check_csrf(request, str(form.get("csrf", "")))
    findings = {
        key.removeprefix("finding-"): str(value)
        for key, value in form.multi_items()
        if key.startswith("finding-")
    }
    values = {"outcome": str(form.get("outcome", "")), "note": str(form.get("note", ""))}
    upload = form.get("evidence")
    evidence = None
    if isinstance(upload, UploadFile) and upload.filename:
        content = await upload.read()
        evidence = tasks.Evidence(upload.filename, upload.content_type or "", content)
    try:
        with unit_of_work(rt.sessions) as session:
            actor = console_actor(request, session)
            view = tasks.complete(
                session,
                rt.settings,
                actor=actor,
                task_id=task_id,
                findings=findings,
                evidence=evidence,
                **values,
            )
            request_id = view.request.id
    except InvalidInputError as exc:
        errors = {e["field"]: e["message"] for e in exc.errors} or {"outcome": exc.detail}
        if "evidence" not in errors and exc.detail.startswith(("Send a PDF", "The file")):
            errors = {"evidence": exc.detail}
        return task_detail(request, task_id, rt, errors, {**values, "findings": findings})
    disp.request_ready(request_id)
    return RedirectResponse(f"/admin/tasks/{task_id}", status_code=303)


@router.post("/{task_id}/waive")
async def waive(
    request: Request,
    task_id: str,
    rt: Runtime = Depends(runtime),
    disp: Dispatcher = Depends(dispatcher),
) -> Response:
    """Waive with a reason (who decides requests); a short reason comes back on the page."""
    form = await request.form()
    check_csrf(request, str(form.get("csrf", "")))
    reason = str(form.get("reason", ""))
    try:
        with unit_of_work(rt.sessions) as session:
            actor = console_actor(request, session)
            view = tasks.waive(session, actor=actor, task_id=task_id, reason=reason)
            request_id = view.request.id
    except RightfulError as exc:
        if exc.status in (401, 403, 404, 409):
            raise
        return task_detail(request, task_id, rt, {"reason": exc.detail}, {"reason": reason})
    disp.request_ready(request_id)
    return RedirectResponse(f"/admin/tasks/{task_id}", status_code=303)
