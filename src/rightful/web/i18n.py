"""Which language a consumer's page is shown in, and the switch that changes it.

The person's own choice (the `rightful_lang` cookie, set by the switch on every consumer page)
wins; otherwise the browser's Accept-Language; otherwise English. The cookie holds only a
language code. The staff console and the API stay in English.
"""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from starlette.routing import Match

from rightful.core import i18n
from rightful.web.routing import DeferredRouter

COOKIE = "rightful_lang"
COOKIE_SECONDS = 365 * 86400
ENGLISH_ONLY = ("/admin", "/api/")  # the console and the API speak the privacy office's language

router = DeferredRouter()


def language_of(request: Request) -> str:
    """The language to show this request's page in."""
    if request.url.path.startswith(ENGLISH_ONLY):
        return i18n.DEFAULT
    chosen = i18n.supported(request.cookies.get(COOKIE))
    if chosen:
        return chosen
    return i18n.negotiate(i18n.parse_accept_language(request.headers.get("accept-language")))


def here(request: Request) -> str:
    """Where the language switch brings the person back to: this page, or for a page shown in
    answer to a form post, the page at that address if there is one, else the one above it."""
    path = request.url.path
    if request.method in ("GET", "HEAD"):
        return path + (f"?{request.url.query}" if request.url.query else "")
    as_get = {**request.scope, "method": "GET"}
    if any(route.matches(as_get)[0] is Match.FULL for route in request.app.routes):
        return path
    if path == "/requests":  # the request form posts here; the form itself is at /requests/new
        return "/requests/new"
    return path.rsplit("/", 1)[0] or "/"


def _safe_next(value: str) -> str:
    """Only a path on this site: never another host (`//host`, `/\\host`) or a scheme."""
    if not value.startswith("/") or value.startswith(("//", "/\\")) or "\\" in value:
        return "/"
    return value


@router.post("/language")
async def switch_language(request: Request) -> Response:
    """Remember the language chosen and go back to the page it was chosen on.

    No form token: the only thing a forged post could do is change the language a visitor
    reads, and the switch must work on every page, error pages included."""
    form = await request.form()
    target = _safe_next(str(form.get("next", "/")))
    response = RedirectResponse(target, status_code=303)
    chosen = i18n.supported(str(form.get("lang", "")))
    if chosen:
        response.set_cookie(
            COOKIE,
            chosen,
            max_age=COOKIE_SECONDS,
            httponly=True,
            samesite="lax",
            secure=request.app.state.runtime.settings.base_url.startswith("https"),
        )
    return response
