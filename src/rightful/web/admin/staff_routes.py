"""The console's staff page (administrators: staff.manage): who has which role, inviting
someone, changing a role, unlocking and deactivating; and the invited person's page to choose
their password. The same service functions back `rightful staff ...`."""

from __future__ import annotations

from typing import Any

from anyio import to_thread
from fastapi import Depends, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from rightful.core.db import unit_of_work
from rightful.core.errors import NotFoundError, RightfulError
from rightful.core.runtime import Runtime
from rightful.messaging.invitations import invite
from rightful.security import signin_limits, staff_admin
from rightful.security.models import StaffUser
from rightful.security.permissions import Role
from rightful.security.service import deactivate_staff, staff_to_manage
from rightful.web.admin.access import console_actor
from rightful.web.deps import check_csrf, runtime
from rightful.web.pages import render
from rightful.web.params import RowId
from rightful.web.routing import DeferredRouter

router = DeferredRouter(prefix="/admin")
DONE = {
    "invited": "Invitation sent. They choose their own password from the e-mailed link.",
    "role": "Role changed. Their sessions ended, so the new role applies at once.",
    "unlocked": "Sign-in unlocked.",
    "deactivated": "Account deactivated: its sessions and API tokens no longer work.",
}


def _page(request: Request, rt: Runtime, status: int = 200, **ctx: Any) -> Response:
    with unit_of_work(rt.sessions) as session:
        actor = console_actor(request, session)
        staff = staff_admin.list_staff(session, rt.settings, actor=actor)
    values: dict[str, Any] = {
        "staff": staff,
        "roles": [r.value for r in Role],
        "me": actor.name,
        "values": {"role": Role.ANALYST.value},
        "errors": {},
        "error": None,
        "done": "",
    }
    return render(request, "admin/staff.html", status, **{**values, **ctx})


def _member(session: Session, staff_id: int) -> StaffUser:
    user = session.get(StaffUser, staff_id)
    if user is None:
        raise NotFoundError("There is no such staff member.")
    return user


@router.get("/staff")
def staff_page(request: Request, done: str = "", rt: Runtime = Depends(runtime)) -> Response:
    """Every account and the form to invite someone."""
    return _page(request, rt, done=DONE.get(done, ""))


@router.post("/staff/invite")
async def invite_member(request: Request, rt: Runtime = Depends(runtime)) -> Response:
    """Add a staff member; they get a one-time link to choose their password."""
    form = await request.form()
    check_csrf(request, str(form.get("csrf", "")))
    values = {k: str(form.get(k, "")).strip() for k in ("email", "name", "role")}

    def add() -> None:
        with unit_of_work(rt.sessions) as session:
            actor = console_actor(request, session)
            invite(session, rt.settings, actor=actor, **values)

    try:
        await to_thread.run_sync(add)  # hashing the placeholder secret takes a moment
    except RightfulError as exc:
        if exc.status in (401, 403):
            raise
        errors = {e["field"]: e["message"] for e in exc.errors}
        return _page(request, rt, exc.status, values=values, errors=errors, error=exc.detail)
    return RedirectResponse("/admin/staff?done=invited", status_code=303)


async def _act(request: Request, rt: Runtime, staff_id: int, done: str, action: Any) -> Response:
    form = await request.form()
    check_csrf(request, str(form.get("csrf", "")))
    try:
        with unit_of_work(rt.sessions) as session:
            actor = console_actor(request, session)
            action(session, actor, _member(session, staff_id), form)
    except RightfulError as exc:
        if exc.status in (401, 403):
            raise
        return _page(request, rt, exc.status, error=exc.detail)
    return RedirectResponse(f"/admin/staff?done={done}", status_code=303)


@router.post("/staff/{staff_id}/role")
async def change_role(
    request: Request, staff_id: RowId, rt: Runtime = Depends(runtime)
) -> Response:
    """Give a staff member another role."""
    return await _act(
        request,
        rt,
        staff_id,
        "role",
        lambda s, a, user, form: staff_admin.change_role(
            s, email=user.email, role=str(form.get("role", "")), actor=a
        ),
    )


@router.post("/staff/{staff_id}/unlock")
async def unlock(request: Request, staff_id: RowId, rt: Runtime = Depends(runtime)) -> Response:
    """Clear a locked sign-in."""

    def clear(s: Session, a: Any, user: StaffUser, _: Any) -> None:
        staff_to_manage(s, email=user.email, actor=a)
        signin_limits.unlock(s, rt.settings, email=user.email, actor=a.name, staff_id=user.id)

    return await _act(request, rt, staff_id, "unlocked", clear)


@router.post("/staff/{staff_id}/deactivate")
async def deactivate(request: Request, staff_id: RowId, rt: Runtime = Depends(runtime)) -> Response:
    """Stop an account: sessions and tokens end, the record stays."""
    return await _act(
        request,
        rt,
        staff_id,
        "deactivated",
        lambda s, a, user, _: deactivate_staff(s, email=user.email, actor=a),
    )


def _welcome(request: Request, rt: Runtime, token: str, status: int = 200, **ctx: Any) -> Response:
    with unit_of_work(rt.sessions) as session:
        try:
            user = staff_admin.invited_staff(session, rt.settings, token=token)
        except RightfulError as exc:
            return render(request, "admin/welcome.html", exc.status, broken=exc.detail)
        who = {"name": user.name, "email": user.email}
    return render(request, "admin/welcome.html", status, who=who, token=token, **ctx)


@router.get("/welcome/{token}")
def welcome(request: Request, token: str, rt: Runtime = Depends(runtime)) -> Response:
    """The invited person's page: opening it changes nothing; the button sets the password."""
    return _welcome(request, rt, token)


@router.post("/welcome/{token}")
async def set_password(request: Request, token: str, rt: Runtime = Depends(runtime)) -> Response:
    """Set the chosen password; the link is spent."""
    form = await request.form()
    check_csrf(request, str(form.get("csrf", "")))
    password = str(form.get("new_password", ""))
    if password != str(form.get("repeat_password", "")):
        return _welcome(request, rt, token, 422, error="The two passwords differ.")

    def accept() -> None:
        with unit_of_work(rt.sessions) as session:
            staff_admin.accept_invitation(session, rt.settings, token=token, password=password)

    try:
        await to_thread.run_sync(accept)
    except RightfulError as exc:
        return _welcome(request, rt, token, exc.status, error=exc.detail)
    return render(request, "admin/welcome.html", done=True)
