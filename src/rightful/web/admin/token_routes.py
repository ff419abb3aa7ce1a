"""The console's API tokens page: every token with its owner, scopes, expiry and last use;
revoking one stops it at once (administrators only: tokens.manage)."""

from __future__ import annotations

from fastapi import Depends, Request
from fastapi.responses import RedirectResponse, Response

from rightful.core.clock import utcnow
from rightful.core.db import unit_of_work
from rightful.core.runtime import Runtime
from rightful.security.api_tokens import list_tokens, revoke_token
from rightful.web.admin.access import console_actor
from rightful.web.deps import check_csrf, runtime
from rightful.web.pages import render
from rightful.web.routing import DeferredRouter

router = DeferredRouter(prefix="/admin/tokens")


@router.get("")
def tokens_page(request: Request, rt: Runtime = Depends(runtime)) -> Response:
    """Every API token, newest first; never a secret."""
    with unit_of_work(rt.sessions) as session:
        tokens = list_tokens(session, actor=console_actor(request, session))
    return render(request, "admin/tokens.html", tokens=tokens, now=utcnow())


@router.post("/{prefix}/revoke")
async def revoke(request: Request, prefix: str, rt: Runtime = Depends(runtime)) -> Response:
    """Revoke one token by its prefix."""
    form = await request.form()
    check_csrf(request, str(form.get("csrf", "")))
    with unit_of_work(rt.sessions) as session:
        revoke_token(session, prefix=prefix, actor=console_actor(request, session))
    return RedirectResponse("/admin/tokens", status_code=303)
