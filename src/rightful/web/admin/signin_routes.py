"""Signing in to the console and out of it.

The password check runs in a worker thread (web/hashing.py), and so does the database work
around it, so sign-ins in flight never hold up another page. The browser's cookie carries only
a random session id; a new one, and a new form token, at every sign-in.
"""

from __future__ import annotations

import secrets
from urllib.parse import urlsplit

from anyio import to_thread
from fastapi import Depends, Query, Request
from fastapi.responses import RedirectResponse, Response

from rightful.core.db import unit_of_work
from rightful.core.errors import RateLimitedError
from rightful.core.runtime import Runtime
from rightful.security import signin
from rightful.security.signin import Attempt, SignedIn
from rightful.security.signin_limits import SigninThrottledError
from rightful.web.deps import SESSION_ID, check_csrf, client_address, runtime
from rightful.web.hashing import verify_password
from rightful.web.pages import render
from rightful.web.routing import DeferredRouter

router = DeferredRouter(prefix="/admin")
BUSY_RETRY_SECONDS = 5
FIRST_PAGE = "/admin/today"  # the morning view: what needs doing today


def landing(target: str | None) -> str:
    """Where a sign-in leads: the console page the person was sent away from (`next`), when it
    is one of the console's own pages, else the morning view. Never another site."""
    if not target:
        return FIRST_PAGE
    parts = urlsplit(target)
    own = not (parts.scheme or parts.netloc) and "\\" not in target
    console = parts.path == "/admin" or parts.path.startswith("/admin/")
    if own and console and not parts.path.startswith(("/admin/login", "/admin/logout")):
        return target
    return FIRST_PAGE


def _begin(rt: Runtime, email: str, client: str) -> Attempt:
    with unit_of_work(rt.sessions) as session:
        return signin.begin(session, rt.settings, email=email, client=client)


def _finish(
    rt: Runtime, attempt: Attempt, password_ok: bool, code: str, replaces: str
) -> SignedIn | None:
    with unit_of_work(rt.sessions) as session:  # committed on failure too: the count, the audit
        return signin.finish(
            session,
            rt.settings,
            attempt=attempt,
            password_ok=password_ok,
            code=code,
            replaces=replaces,
        )


@router.get("/login")
def login_page(request: Request, back_to: str | None = Query(None, alias="next")) -> Response:
    """Sign-in form; `next` is the console page to go back to."""
    target = landing(back_to)
    return render(
        request,
        "admin/login.html",
        error=None,
        email="",
        next=target if target != FIRST_PAGE else None,
    )


@router.post("/login")
async def login(request: Request, rt: Runtime = Depends(runtime)) -> Response:
    """Check credentials (and the second factor); the same message for every failure."""
    form = await request.form()
    check_csrf(request, str(form.get("csrf", "")))
    email = str(form.get("email", ""))
    target = landing(str(form.get("next", "")))
    back = target if target != FIRST_PAGE else None  # kept in the form when it is shown again
    try:
        attempt = await to_thread.run_sync(_begin, rt, email, client_address(request))
        password = str(form.get("password", ""))
        password_ok = await verify_password(request.app, attempt.password_hash, password)
        code, replaces = str(form.get("code", "")), str(request.session.get(SESSION_ID, ""))
        done = await to_thread.run_sync(_finish, rt, attempt, password_ok, code, replaces)
    except RateLimitedError as exc:
        page = render(request, "admin/login.html", 429, error=exc.detail, email=email, next=back)
        wait = exc.retry_after if isinstance(exc, SigninThrottledError) else BUSY_RETRY_SECONDS
        if wait:
            page.headers["Retry-After"] = str(wait)
        return page
    if done is None:
        return render(request, "admin/login.html", 401, error=signin.FAILED, email=email, next=back)
    request.session.pop("staff_id", None)  # the signed-cookie sessions of earlier versions
    # A new session id and a new form token: nothing set before sign-in carries over.
    request.session.update(
        {SESSION_ID: done.session_token, "staff_name": done.name, "csrf": secrets.token_urlsafe(24)}
    )
    return RedirectResponse(target, status_code=303)


def _sign_out(rt: Runtime, token: str) -> None:
    with unit_of_work(rt.sessions) as session:
        signin.sign_out(session, token=token)


@router.post("/logout")
async def logout(request: Request, rt: Runtime = Depends(runtime)) -> Response:
    """Sign out: the session ends in the store, so a copy of the cookie is worth nothing."""
    form = await request.form()
    check_csrf(request, str(form.get("csrf", "")))
    await to_thread.run_sync(_sign_out, rt, str(request.session.get(SESSION_ID, "")))
    request.session.clear()
    return RedirectResponse("/admin/login", status_code=303)
