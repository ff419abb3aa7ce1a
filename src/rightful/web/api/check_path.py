"""The consent check's lean path: `POST /api/v1/consent/check` answered before FastAPI routes it.

A check is the API's hottest call (every marketing send and ad call asks), and its own work,
from the token cache and the check cache, is a few dictionary reads. Through FastAPI a request
cost about 0.9 ms of CPU, half of it matching the path against every route and most of the rest
solving dependencies and two hand-offs to the thread pool (one for the token, one for the
check). Here a well-formed call is parsed with the route's own model, and the token and the
check run in one hand-off, through the same functions (`token_actor`, `staff.check`), so the
authorisation and the caches' bounds are the route's.

A check whose token and answer this process already holds (the token cache, and the check
cache with the catalogue it was read with: `api_tokens.held_actor`, `staff.check_held`) is
answered on the event loop, with no thread hand-off, no session and no statement; their bounds
are the ones above, and both forget what the change feed says changed. Only misses go to the
thread.

Anything else is handed to the documented route in `consent_routes.py` with the body it sent:
a body that is not JSON or does not validate, no bearer token, and any `RightfulError` (a
revoked token, an unknown purpose or subject). That route then gives the answer and the
problem document it always gave; a check writes nothing, so asking twice changes nothing.
"""

from __future__ import annotations

import json
from typing import Any

from anyio import to_thread
from pydantic import ValidationError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from rightful.consent import staff as desk
from rightful.consent.state import Decision
from rightful.core.db import single_reads
from rightful.core.errors import RightfulError
from rightful.core.runtime import Runtime
from rightful.security.api_tokens import held_actor, token_actor
from rightful.web.api.consent_routes import CheckIn

PATH = "/api/v1/consent/check"
_JSON = [(b"content-type", b"application/json")]


class LeanCheckMiddleware:
    """Answer well-formed consent checks directly; pass everything else on unchanged."""

    def __init__(self, app: ASGIApp, runtime: Runtime) -> None:
        self.app = app
        self.runtime = runtime

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != PATH or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        body = await _body(receive)
        asked = _parse(scope, body)
        if asked is not None:
            decision = _held(self.runtime, *asked)
            if decision is None:
                decision = await to_thread.run_sync(_decide, self.runtime, *asked)
            if decision is not None:
                await _answer(send, decision)
                return
        await self.app(scope, _replay(body, receive), send)


async def _body(receive: Receive) -> bytes:
    """The whole body (LimitsMiddleware, outside this one, bounds its size)."""
    parts = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        parts.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(parts)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A receive that gives the body already read, then whatever the client sends next."""
    pending = [{"type": "http.request", "body": body, "more_body": False}]

    async def replayed() -> Message:
        return pending.pop() if pending else await receive()

    return replayed


def _parse(scope: Scope, body: bytes) -> tuple[str, dict[str, Any]] | None:
    """The bearer token and the check asked, when the call is plainly well formed."""
    token = content_type = ""
    for name, value in scope["headers"]:
        if name == b"authorization":
            token = value.decode("latin-1")
        elif name == b"content-type":
            content_type = value.decode("latin-1")
    scheme, _, credentials = token.partition(" ")
    if scheme.lower() != "bearer" or not credentials:
        return None
    if content_type.partition(";")[0].strip().lower() != "application/json":
        return None
    try:
        checked = CheckIn.model_validate(json.loads(body))
    except (ValueError, ValidationError):  # UnicodeDecodeError and JSONDecodeError included
        return None
    return credentials, checked.model_dump()


def _held(rt: Runtime, token: str, ask: dict[str, Any]) -> Decision | None:
    """The answer from memory alone, or None (then `_decide` asks the store)."""
    actor = held_actor(token)
    return None if actor is None else desk.check_held(rt.engine, rt.settings, actor=actor, **ask)


def _decide(rt: Runtime, token: str, ask: dict[str, Any]) -> Decision | None:
    """The route's answer, or None where the route has a problem document to give instead."""
    try:
        with single_reads(rt.sessions) as session:
            actor = token_actor(
                session, token=token, cache_seconds=rt.settings.api_token_cache_seconds
            )
            return desk.check(session, rt.settings, actor=actor, **ask)
    except RightfulError:
        return None


async def _answer(send: Send, decision: Decision) -> None:
    """The answer as FastAPI's JSONResponse encodes the route's dict."""
    content = json.dumps(
        decision.__dict__, ensure_ascii=False, allow_nan=False, separators=(",", ":")
    ).encode()
    headers = [(b"content-length", str(len(content)).encode()), *_JSON]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": content})
