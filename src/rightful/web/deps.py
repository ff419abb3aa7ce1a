"""What routes share: the runtime, CSRF tokens, the signed-in staff member."""

from __future__ import annotations

import hmac
import secrets

from fastapi import Request
from sqlalchemy.orm import Session

from rightful.core.errors import NotAllowedError, VerificationError
from rightful.core.runtime import Runtime
from rightful.security import sessions
from rightful.security.models import StaffUser
from rightful.web.client import client_of
from rightful.worker.dispatch import Dispatcher

SESSION_ID = "sid"  # the key of the staff session's id in the signed cookie


# The two below are `async` although they wait for nothing: FastAPI runs a plain `def`
# dependency in its thread pool, a hand-off per request for what is an attribute read.
async def runtime(request: Request) -> Runtime:
    """The process's runtime."""
    value: Runtime = request.app.state.runtime
    return value


async def dispatcher(request: Request) -> Dispatcher:
    """Where to hand off work."""
    value: Dispatcher = request.app.state.dispatcher
    return value


def client_address(request: Request) -> str:
    """The caller's address, used only (hashed) for rate limits: the connection's peer, or
    what a trusted proxy in front of it saw (RIGHTFUL_TRUSTED_PROXIES; see web/client.py)."""
    peer = request.client.host if request.client else "unknown"
    proxies = request.app.state.runtime.settings.trusted_proxies
    return client_of(peer, request.headers.getlist("x-forwarded-for"), proxies)


def csrf_token(request: Request) -> str:
    """The form token of this browser session."""
    token = request.session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(24)
        request.session["csrf"] = token
    return str(token)


def check_csrf(request: Request, submitted: str) -> None:
    """Refuse a form post that did not come from our own page."""
    expected = request.session.get("csrf", "")
    if not expected or not hmac.compare_digest(str(expected), submitted or ""):
        raise VerificationError("This form has expired. Go back, reload the page and try again.")


def staff_from_session(request: Request, session_db: Session) -> StaffUser:
    """The signed-in staff member, or NotAllowedError.

    The cookie holds only a session id; the store says whether that session is still live
    (not signed out, revoked, idle or expired) and its owner active."""
    settings = request.app.state.runtime.settings
    token = str(request.session.get(SESSION_ID, ""))
    staff = sessions.resolve(session_db, settings, token=token) if token else None
    if staff is None:
        for key in (SESSION_ID, "staff_name", "staff_id"):
            request.session.pop(key, None)
        raise NotAllowedError("Sign in to use the console.")
    return staff
