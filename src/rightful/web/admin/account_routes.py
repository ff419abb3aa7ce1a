"""A staff member's own account: a new password, a second factor (authenticator app).

Each change asks for the current password again, checked off the event loop and counted like
a sign-in, so a borrowed session can neither take the account over nor grind its password.
"""

from __future__ import annotations

import secrets
from functools import partial
from typing import Any

from anyio import to_thread
from fastapi import Depends, Request
from fastapi.responses import RedirectResponse, Response

from rightful.core.db import unit_of_work
from rightful.core.errors import InvalidInputError, RightfulError
from rightful.core.runtime import Runtime
from rightful.security import signin, totp
from rightful.security.account import change_password
from rightful.security.signin import Attempt
from rightful.web.deps import SESSION_ID, check_csrf, client_address, runtime, staff_from_session
from rightful.web.hashing import verify_password
from rightful.web.pages import render
from rightful.web.routing import DeferredRouter

router = DeferredRouter(prefix="/admin/account")
DONE = {
    "password": "Your password is changed. Every other session of your account has ended.",
    "second-factor": "Your second factor is on: sign in with a code from the app from now on.",
}


def _page(request: Request, rt: Runtime, status: int = 200, **ctx: Any) -> Response:
    with unit_of_work(rt.sessions) as session:
        staff = staff_from_session(request, session)
        enabled = totp.is_enabled(session, staff.id)
        who = {"name": staff.name, "email": staff.email, "role": staff.role}
    values = {"who": who, "enabled": enabled, "enrolment": None, "error": None, "done": ""}
    return render(request, "admin/account.html", status, **{**values, **ctx})


async def _show(request: Request, rt: Runtime, status: int = 200, **ctx: Any) -> Response:
    """The account page, from an async route (its database work in a worker thread)."""
    return await to_thread.run_sync(partial(_page, request, rt, status, **ctx))


@router.get("")
def account(request: Request, done: str = "", rt: Runtime = Depends(runtime)) -> Response:
    """The account page."""
    return _page(request, rt, done=DONE.get(done, ""))


def _begin(request: Request, rt: Runtime, client: str) -> Attempt:
    with unit_of_work(rt.sessions) as session:
        staff = staff_from_session(request, session)
        return signin.begin(session, rt.settings, email=staff.email, client=client)


def _settle(rt: Runtime, attempt: Attempt, password_ok: bool) -> None:
    with unit_of_work(rt.sessions) as session:
        signin.settle_check(session, rt.settings, attempt=attempt, password_ok=password_ok)


async def _check_current_password(request: Request, rt: Runtime, password: str) -> None:
    """InvalidInputError unless `password` is the signed-in staff member's."""
    attempt = await to_thread.run_sync(_begin, request, rt, client_address(request))
    password_ok = await verify_password(request.app, attempt.password_hash, password)
    await to_thread.run_sync(_settle, rt, attempt, password_ok)
    if not password_ok:
        raise InvalidInputError("That is not your current password.")


def _change(request: Request, rt: Runtime, new_password: str) -> str:
    with unit_of_work(rt.sessions) as session:
        staff = staff_from_session(request, session)
        started = change_password(session, rt.settings, staff=staff, new_password=new_password)
        return started.token


@router.post("/password")
async def new_password(request: Request, rt: Runtime = Depends(runtime)) -> Response:
    """Change the password; every session of the account ends and this browser gets a new one."""
    form = await request.form()
    check_csrf(request, str(form.get("csrf", "")))
    new = str(form.get("new_password", ""))
    try:
        if new != str(form.get("repeat_password", "")):
            raise InvalidInputError("The two new passwords differ.")
        await _check_current_password(request, rt, str(form.get("current_password", "")))
        token = await to_thread.run_sync(_change, request, rt, new)
    except RightfulError as exc:
        if exc.status == 401:
            raise
        return await _show(request, rt, exc.status, error=exc.detail)
    request.session.update({SESSION_ID: token, "csrf": secrets.token_urlsafe(24)})
    return RedirectResponse("/admin/account?done=password", status_code=303)


def _enrol(request: Request, rt: Runtime) -> totp.Enrolment:
    with unit_of_work(rt.sessions) as session:
        staff = staff_from_session(request, session)
        return totp.enrol(session, rt.settings, staff=staff, actor=staff.email)


@router.post("/second-factor")
async def start_second_factor(request: Request, rt: Runtime = Depends(runtime)) -> Response:
    """Make a new authenticator key and show it, with the form that confirms it."""
    form = await request.form()
    check_csrf(request, str(form.get("csrf", "")))
    try:
        await _check_current_password(request, rt, str(form.get("current_password", "")))
        enrolment = await to_thread.run_sync(_enrol, request, rt)
    except RightfulError as exc:
        if exc.status == 401:
            raise
        return await _show(request, rt, exc.status, error=exc.detail)
    return await _show(request, rt, enrolment=enrolment)


def _confirm(request: Request, rt: Runtime, code: str) -> None:
    with unit_of_work(rt.sessions) as session:
        staff = staff_from_session(request, session)
        totp.confirm(session, rt.settings, staff=staff, code=code)


@router.post("/second-factor/confirm")
async def confirm_second_factor(request: Request, rt: Runtime = Depends(runtime)) -> Response:
    """Put the new key in force with a code from the app."""
    form = await request.form()
    check_csrf(request, str(form.get("csrf", "")))
    try:
        await to_thread.run_sync(_confirm, request, rt, str(form.get("code", "")))
    except RightfulError as exc:
        if exc.status == 401:
            raise
        return await _show(request, rt, exc.status, error=exc.detail, confirming=True)
    return RedirectResponse("/admin/account?done=second-factor", status_code=303)
