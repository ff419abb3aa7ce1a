"""The appeal page: the signed link in a denial or partial answer opens it; the person writes
why they disagree, inside their law's window (rights/appeals.py)."""

from __future__ import annotations

from fastapi import Depends, Request
from fastapi.responses import RedirectResponse, Response

from rightful.core.db import unit_of_work
from rightful.core.errors import ConflictError, InvalidInputError, RateLimitedError
from rightful.core.i18n import N_
from rightful.core.runtime import Runtime
from rightful.rights import appeals
from rightful.security import rate_limits
from rightful.security.vault import keyed_hash
from rightful.web.deps import check_csrf, client_address, dispatcher, runtime
from rightful.web.pages import render
from rightful.web.routing import DeferredRouter
from rightful.worker.dispatch import Dispatcher

router = DeferredRouter()
PAGE = "privacy_center/appeal.html"
TRIES_PER_CLIENT_PER_HOUR = 20  # counted for every process together
TRIES = rate_limits.Window(TRIES_PER_CLIENT_PER_HOUR, seconds=3600)
NO_REASON = N_("Tell us why you disagree with our decision, in a sentence or more.")
SUMMARY = N_("Some details need attention.")
TOO_MANY = N_("Too many tries from your connection. Please wait an hour and try again.")


def _page(
    request: Request, rt: Runtime, token: str, status: int = 200, **extra: object
) -> Response:
    with unit_of_work(rt.sessions) as session:
        page = appeals.appeal_page(session, rt.settings, token=token)
    ctx: dict[str, object] = {
        "page": page,
        "token": token,
        "errors": {},
        "summary": "",
        "reason": "",
    }
    return render(request, PAGE, status, **{**ctx, **extra})


@router.get("/appeal/{token}")
def appeal_form(request: Request, token: str, rt: Runtime = Depends(runtime)) -> Response:
    """The form, or where the appeal stands, or why there is none."""
    return _page(request, rt, token)


@router.post("/appeal/{token}")
async def send_appeal(
    request: Request,
    token: str,
    rt: Runtime = Depends(runtime),
    disp: Dispatcher = Depends(dispatcher),
) -> Response:
    """File the appeal; errors come back on the form, with what was written kept."""
    form = await request.form()
    check_csrf(request, str(form.get("csrf", "")))
    reason = str(form.get("reason", ""))[: appeals.MAX_REASON]
    client = keyed_hash(rt.settings.secret_key, "appeal-client", client_address(request))
    try:
        if not rate_limits.allow(
            rt.sessions, rt.settings, scope="appeal", key=client, window=TRIES
        ):
            raise RateLimitedError(TOO_MANY)
        with unit_of_work(rt.sessions) as session:
            appeals.file_appeal(session, rt.settings, token=token, reason=reason)
    except InvalidInputError:
        errors = {"reason": NO_REASON}
        return _page(request, rt, token, 422, errors=errors, summary=SUMMARY, reason=reason)
    except (ConflictError, RateLimitedError) as exc:
        status = 429 if isinstance(exc, RateLimitedError) else 409
        return _page(request, rt, token, status, summary=exc.detail, reason=reason)
    disp.mail_queued()
    return RedirectResponse(f"/appeal/{token}", status_code=303)
