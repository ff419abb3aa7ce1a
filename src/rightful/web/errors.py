"""The one place errors become problem+json (API) or a readable page (browser)."""

from __future__ import annotations

import logging
from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException

from rightful.core.errors import NotAllowedError, RightfulError, UnreadableBodyError
from rightful.core.i18n import N_
from rightful.web.i18n import here, language_of
from rightful.web.middleware import NO_STORE, SECURITY_HEADERS

log = logging.getLogger(__name__)
PROBLEM = "application/problem+json"
TOO_DEEP = "The JSON body is nested too deeply to read; no Rightful request needs that many levels."


def problem(
    status: int,
    title: str,
    detail: str,
    *,
    code: str,
    instance: str,
    errors: list[dict[str, str]] | None = None,
    extensions: dict[str, object] | None = None,
) -> JSONResponse:
    """An RFC 9457 problem document, with any extension members (section 3.2) after the rest."""
    body: dict[str, object] = {
        "type": f"https://rightful.dev/problems/{code}",
        "title": title,
        "status": status,
        "detail": detail,
        "instance": instance,
    }
    if errors:
        body["errors"] = errors
    body.update(extensions or {})
    return JSONResponse(body, status_code=status, media_type=PROBLEM)


MACHINE_PATHS = ("/api/", "/consent/", "/.well-known/")  # called by code, not read by people


def _wants_page(request: Request) -> bool:
    return not request.url.path.startswith(MACHINE_PATHS)


def _page(request: Request, status: int, title: str, detail: str) -> Response:
    templates: Jinja2Templates = request.app.state.templates
    # In the reader's language where the catalogue has the words (message.html's `t` filter).
    ctx = {"title": title, "detail": detail, "lang": language_of(request), "here": here(request)}
    return templates.TemplateResponse(request, "message.html", ctx, status_code=status)


def _sign_in_first(request: Request) -> str:
    """The sign-in page, coming back afterwards to the console page a GET asked for (the
    console's bare address leads to its first page, as a sign-in does)."""
    path, query = request.url.path, request.url.query
    if request.method != "GET" or path == "/admin/login" or (path == "/admin" and not query):
        return "/admin/login"
    return "/admin/login?" + urlencode({"next": f"{path}?{query}" if query else path})


def bearer_challenge(request: Request) -> str:
    """The WWW-Authenticate value of a 401: `invalid_token` when a token was sent."""
    sent = request.headers.get("authorization", "").lower().startswith("bearer ")
    return 'Bearer realm="rightful"' + (', error="invalid_token"' if sent else "")


def install(app: FastAPI) -> None:
    """Register the handlers on an app."""

    @app.exception_handler(RightfulError)
    async def rightful_error(request: Request, exc: RightfulError) -> Response:
        if isinstance(exc, NotAllowedError) and request.url.path.startswith("/admin"):
            return RedirectResponse(_sign_in_first(request), status_code=303)
        if _wants_page(request):
            return _page(request, exc.status, exc.title, exc.detail)
        answer = problem(
            exc.status,
            exc.title,
            exc.detail,
            code=exc.code,
            instance=request.url.path,
            errors=exc.errors,
            extensions=exc.extensions,
        )
        if isinstance(exc, NotAllowedError):  # RFC 6750 section 3: say how to authenticate
            answer.headers["WWW-Authenticate"] = bearer_challenge(request)
        return answer

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        errors = [
            {
                # A bad mapping key is named at the key itself, not as `key.[key]`.
                "field": ".".join(str(p) for p in e["loc"][1:] if p != "[key]") or "body",
                "message": str(e["msg"]).removeprefix("Value error, "),
            }
            for e in exc.errors()
        ]
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        if _wants_page(request):
            return _page(request, 422, "Your input needs attention", detail)
        return problem(
            422,
            "Your input needs attention",
            detail,
            code="invalid_input",
            instance=request.url.path,
            errors=errors,
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if isinstance(exc.__cause__, RecursionError):  # FastAPI could not parse a deep body
            return await rightful_error(request, UnreadableBodyError(TOO_DEEP))
        title = {404: N_("Not found"), 405: N_("Method not allowed"), 413: N_("Too large")}.get(
            exc.status_code, N_("Request failed")
        )
        detail = str(exc.detail) if exc.detail else title
        if exc.status_code == 404:
            detail = N_("There is nothing at this address.")
        if _wants_page(request):
            return _page(request, exc.status_code, title, detail)
        return problem(
            exc.status_code,
            title,
            detail,
            code=f"http_{exc.status_code}",
            instance=request.url.path,
        )

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        # The route's pattern, not the path: paths carry signed links that must not reach logs.
        route = getattr(request.scope.get("route"), "path", "unknown route")
        log.exception("unhandled error on %s %s", request.method, route)
        detail = N_("Something went wrong on our side. Nothing was changed; please try again.")
        if _wants_page(request):
            answer = _page(request, 500, N_("Something went wrong"), detail)
        else:
            answer = problem(
                500, "Something went wrong", detail, code="internal", instance=request.url.path
            )
        # Starlette sends this answer from outside every middleware, LimitsMiddleware included.
        for name, value in (*SECURITY_HEADERS, NO_STORE):
            answer.headers[name.decode()] = value.decode()
        return answer
