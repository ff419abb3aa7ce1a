"""Body-size limit and security headers, as plain ASGI middleware."""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (
        b"content-security-policy",
        b"default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        b"frame-ancestors 'none'; form-action 'self'",
    ),
]


NO_STORE = (b"cache-control", b"no-store")
# Files that are the same for everyone may be cached; routes that want caching say so themselves.
CACHEABLE = ("/static/", "/api/docs/assets/")


class _TooLargeError(Exception):
    pass


class LimitsMiddleware:
    """Refuse bodies over `max_bytes` with 413, and add security headers to every answer.

    Paths in `bulk` (e.g. the bulk suppression check, which takes a million hashes) get their
    own, larger limit. A body is counted as it arrives, so a chunked one (no Content-Length) is
    held to the same limit. Every answer outside `CACHEABLE` that does not say how it may be
    cached gets `Cache-Control: no-store`: pages and API answers may carry personal data.
    """

    def __init__(self, app: ASGIApp, max_bytes: int, bulk: dict[str, int] | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.bulk = bulk or {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.bulk.get(scope.get("path", ""), self.max_bytes)
        declared = dict(scope["headers"]).get(b"content-length")
        if declared and declared.isdigit() and int(declared) > limit:
            await self._refuse(scope, send, limit)
            return
        cacheable = scope.get("path", "").startswith(CACHEABLE)
        seen, over, started = 0, False, False

        async def limited_receive() -> Message:
            nonlocal seen, over
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > limit:
                over = True
                raise _TooLargeError
            return message

        async def secured_send(message: Message) -> None:
            nonlocal started
            if over:  # the app answered a body it could not read (FastAPI: 400): 413 instead
                if message["type"] == "http.response.start" and not started:
                    started = True
                    await self._refuse(scope, send, limit)
                return
            if message["type"] == "http.response.start":
                started = True
                headers = list(message.get("headers", [])) + SECURITY_HEADERS
                if not cacheable and not any(k.lower() == b"cache-control" for k, _ in headers):
                    headers.append(NO_STORE)
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, limited_receive, secured_send)
        except _TooLargeError:
            if not started:
                await self._refuse(scope, send, limit)

    async def _refuse(self, scope: Scope, send: Send, limit: int) -> None:
        body = json.dumps(
            {
                "type": "https://rightful.dev/problems/too_large",
                "title": "Too large",
                "status": 413,
                "detail": f"The request body is over the {limit}-byte limit.",
                "instance": scope.get("path", ""),
            }
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/problem+json"),
                    (b"content-length", str(len(body)).encode()),
                    NO_STORE,
                    *SECURITY_HEADERS,
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
