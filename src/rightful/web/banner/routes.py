"""The cookie banner over HTTP: consent.js, its configuration, the choices it records, and GPC.

consent.js runs on the company's own site, another origin, so the configuration and events
endpoints answer cross-origin requests. They take no credentials (the browser's random id travels
in the body, never in a cookie of ours) and reveal nothing private, so any origin may call them.
"""

from __future__ import annotations

import gzip
import hashlib
import inspect
import json
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Literal, cast

from fastapi import APIRouter, Depends, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel, ConfigDict, Field, StrictBool, ValidationError

from rightful.consent import assertion, banner, event_groups, texts
from rightful.core.db import unit_of_work
from rightful.core.errors import (
    InvalidInputError,
    NotFoundError,
    RightfulError,
    UnreadableBodyError,
)
from rightful.core.runtime import Runtime
from rightful.security.vault import keyed_hash
from rightful.web import event_groups as grouped
from rightful.web.deps import client_address, runtime
from rightful.web.errors import TOO_DEEP
from rightful.web.gpc import gpc_signal

WEB = Path(__file__).parent.parent
SCRIPT = WEB / "static" / "consent.js"
DEMO = WEB / "templates" / "banner"
DEMO_ASSETS = {"store.css": "text/css", "brightads.js": "text/javascript"}
ALLOW_ANY_ORIGIN = {
    "Access-Control-Allow-Origin": "*",
    "Cross-Origin-Resource-Policy": "cross-origin",
}
PREFLIGHT = {
    "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
    "Access-Control-Allow-Headers": "Content-Type",
    "Access-Control-Max-Age": "86400",
}


class _CrossOriginRoute(APIRoute):
    """A route the company's site calls from its own origin: CORS headers on every answer,
    problem documents included (without them the browser hides the problem from the page)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def handle_cross_origin(request: Request) -> Response:
            try:
                response = await handle(request)
            except (RightfulError, RequestValidationError) as exc:
                response = await _as_problem(request, exc)
            response.headers.update(ALLOW_ANY_ORIGIN)
            return response

        return handle_cross_origin


async def _as_problem(request: Request, exc: Exception) -> Response:
    """The answer web/errors.py gives for this error (the one place errors become documents)."""
    for kind in type(exc).__mro__:
        handler = request.app.exception_handlers.get(kind)
        if handler is not None:
            answer = handler(request, exc)
            if inspect.isawaitable(answer):
                answer = await answer
            return cast(Response, answer)
    raise exc


DEMO_CUSTOMER = "avery.quinn@example.com"
router = APIRouter(tags=["consent banner"])
cross_origin = APIRouter(route_class=_CrossOriginRoute, tags=["consent banner"])
cross_origin_route = _CrossOriginRoute  # web/hot_routes.py registers the events route again


class EventIn(BaseModel):
    """What consent.js sends when a visitor chooses (or when the browser sends GPC)."""

    model_config = ConfigDict(extra="forbid")

    device_id: str = Field(max_length=64, description="The random id consent.js stored.")
    jurisdiction: str | None = Field(default=None, max_length=10)
    choices: dict[str, StrictBool] = Field(default_factory=dict, max_length=20)
    gpc: StrictBool = Field(default=False, description="navigator.globalPrivacyControl")
    action: Literal["accept_all", "reject_all", "save", "gpc"] = "save"
    notice_version: str | None = Field(default=None, max_length=40)
    lang: str | None = Field(
        default=None, max_length=35, description="The language the banner was shown in."
    )


class BatchIn(BaseModel):
    """Several events in one request: `{"events": [event, ...]}`, recorded all or nothing."""

    model_config = ConfigDict(extra="forbid")

    events: list[EventIn] = Field(min_length=1, max_length=banner.MAX_BATCH)


def _event_in(raw: bytes) -> EventIn | BatchIn:
    """Parse the body as JSON whatever its content type (consent.js sends text/plain): one
    event, or a batch when it has `events`."""
    try:
        data = json.loads(raw or b"null")
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidInputError(
            "The body must be a JSON object.", errors=[{"field": "body", "message": "Not JSON."}]
        ) from exc
    except RecursionError as exc:
        raise UnreadableBodyError(TOO_DEEP) from exc
    shape: type[EventIn | BatchIn] = (
        BatchIn if isinstance(data, dict) and "events" in data else EventIn
    )
    try:
        return shape.model_validate(data)
    except ValidationError as exc:
        errors = [
            {"field": ".".join(str(p) for p in e["loc"]) or "body", "message": e["msg"]}
            for e in exc.errors()
        ]
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        raise InvalidInputError(detail, errors=errors) from exc


def _gpc_source(request: Request, body: EventIn) -> str | None:
    if gpc_signal(request):
        return "Sec-GPC"
    return "navigator.globalPrivacyControl" if body.gpc else None


def _config_out(cfg: banner.BannerConfig, rt: Runtime) -> dict[str, Any]:
    def switch(c: banner.Category) -> dict[str, Any]:
        return {
            "key": c.key,
            "title": c.title,
            "description": c.description,
            "cookies": list(c.cookies),
            "required": c.required,
            "default": c.default,
        }

    return {
        "jurisdiction": cfg.jurisdiction,
        "mode": cfg.mode.value,
        "lang": cfg.language,
        "notice_version": cfg.notice_version,
        "company": rt.settings.company_name,
        "categories": [switch(c) for c in cfg.categories],
        "sale_share": switch(cfg.sale_share) if cfg.sale_share else None,
        "texts": cfg.texts,
        "privacy_center": f"{rt.settings.base_url}/",
    }


@cross_origin.get("/consent/config.json")
def banner_config(
    jurisdiction: str | None = None, lang: str | None = None, rt: Runtime = Depends(runtime)
) -> Response:
    """What the banner shows in a jurisdiction (default: the configured one), in the best
    language the banner has for `lang` (e.g. `es-MX`; default: the configured one)."""
    with unit_of_work(rt.sessions) as session:
        body = _config_out(banner.config(session, rt.settings, jurisdiction, lang), rt)
    return JSONResponse(body, headers={"Cache-Control": "public, max-age=300"})


def _outcome_out(outcome: banner.Outcome) -> dict[str, Any]:
    return {
        "jurisdiction": outcome.config.jurisdiction,
        "mode": outcome.config.mode.value,
        "notice_version": outcome.config.notice_version,
        "gpc": outcome.gpc,
        "recorded": len(outcome.events),
        "choices": outcome.allowed,
    }


def _result(outcomes: list[banner.Outcome], batch: bool) -> dict[str, Any]:
    if not batch:
        return _outcome_out(outcomes[0])
    results = [_outcome_out(o) for o in outcomes]
    return {"recorded": sum(r["recorded"] for r in results), "results": results}


def _answer(request: Request, body: EventIn) -> banner.Answer:
    origin = request.headers.get("origin", "")[:200]
    return banner.Answer(
        device_id=body.device_id,
        jurisdiction=body.jurisdiction,
        choices=dict(body.choices),
        gpc_source=_gpc_source(request, body),
        action=body.action,
        notice_version=body.notice_version,
        language=body.lang,
        proof={"origin": origin} if origin else {},
    )


@cross_origin.post("/consent/events")
async def banner_events(request: Request, rt: Runtime = Depends(runtime)) -> Response:
    """Record a visitor's choices and any GPC signal, or a batch of them (`{"events": [...]}`,
    all or nothing); answers where they now stand once the write is committed.

    Every request counts against the client's shared limit (each event of a batch; a body that
    cannot be read too), in the write's own transaction; a refusal writes nothing. Requests
    arriving together are written and committed together (consent/group_commit.py)."""
    client = keyed_hash(rt.settings.secret_key, "banner-client", client_address(request))
    try:
        body = _event_in(await request.body())
    except InvalidInputError as exc:
        asked = event_groups.BannerRequest(client, [], batch=False, refused=exc)
    else:
        items = body.events if isinstance(body, BatchIn) else [body]
        answers = [_answer(request, item) for item in items]
        asked = event_groups.BannerRequest(client, answers, batch=isinstance(body, BatchIn))
    outcomes = await grouped.banner(request, rt).submit(asked)
    result = _result(outcomes, asked.batch)
    return JSONResponse(result, headers={"Cache-Control": "no-store"})


@cross_origin.options("/consent/events", include_in_schema=False)
@cross_origin.options("/consent/config.json", include_in_schema=False)
def preflight() -> Response:
    """CORS preflight, for callers that post application/json."""
    return Response(status_code=204, headers=PREFLIGHT)


@cross_origin.get("/.well-known/gpc.json")
def gpc_json(rt: Runtime = Depends(runtime)) -> Response:
    """Tell the world that this site honours Global Privacy Control."""
    body = {"gpc": True, "lastUpdate": banner.gpc_last_update(rt.settings)}
    return JSONResponse(body, headers={"Cache-Control": "public, max-age=86400"})


@dataclass(frozen=True)
class _Script:
    plain: bytes
    gzipped: bytes
    etag: str


@cache
def _script(mtime_ns: int) -> _Script:
    """consent.js and its gzip, read again only when the file changes (`mtime_ns`)."""
    plain = SCRIPT.read_bytes()
    digest = hashlib.sha256(plain).hexdigest()[:16]
    return _Script(plain, gzip.compress(plain, 9, mtime=0), f'"{digest}"')


@cross_origin.get("/consent.js", include_in_schema=False)
def consent_script(request: Request) -> Response:
    """The banner script, compressed when the browser accepts it; cached for an hour."""
    script = _script(SCRIPT.stat().st_mtime_ns)
    zipped = "gzip" in request.headers.get("accept-encoding", "")
    etag = script.etag[:-1] + ('-gz"' if zipped else '"')
    headers = {"Cache-Control": "public, max-age=3600", "ETag": etag, "Vary": "Accept-Encoding"}
    if etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    if zipped:
        headers["Content-Encoding"] = "gzip"
    body = script.gzipped if zipped else script.plain
    return Response(body, media_type="text/javascript; charset=utf-8", headers=headers)


router.include_router(cross_origin)


# --- the demo company's shop, to see the banner at work (demo mode only) -------------------


@router.get("/demo/store", include_in_schema=False)
def demo_store(
    request: Request, jurisdiction: str = "", lang: str = "", rt: Runtime = Depends(runtime)
) -> Response:
    """Lumen's shop home page with consent.js and an advertising script held back by it; `lang`
    shows the banner in another language than the page's (consent.js's `data-lang`)."""
    if not rt.settings.demo_mode:
        raise NotFoundError("There is nothing at this address.")
    code = banner.jurisdiction_of(rt.settings, jurisdiction or None)
    templates: Jinja2Templates = request.app.state.templates
    context = {
        "jurisdiction": code,
        "mode": banner.mode_for(code).value,
        "lang": texts.requested_language(lang) or "",
        # As the shop's own back end would: its signed-in customer, vouched for to Rightful,
        # with the browser consent.js knows them in (once it has set its cookie).
        "assertion": assertion.issue(
            rt.settings, DEMO_CUSTOMER, device_id=request.cookies.get(banner.DEVICE_COOKIE)
        ),
        "customer": "Avery",
    }
    return templates.TemplateResponse(request, "banner/store.html", context)


@router.get("/demo/store/{asset}", include_in_schema=False)
def demo_asset(asset: str, rt: Runtime = Depends(runtime)) -> Response:
    """The shop's stylesheet and its advertising partner's script."""
    if not rt.settings.demo_mode or asset not in DEMO_ASSETS:
        raise NotFoundError("There is nothing at this address.")
    return PlainTextResponse((DEMO / asset).read_text(), media_type=DEMO_ASSETS[asset])
