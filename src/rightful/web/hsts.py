"""Strict-Transport-Security on every answer, when Rightful is served over https."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# A year, the usual minimum for browsers' preload lists; subdomains are not included, since
# Rightful may live beside other sites of the company that are not ours to decide for.
HSTS = (b"strict-transport-security", b"max-age=31536000")


class HstsMiddleware:
    """Tell browsers to use https only, for a year (added only when the base URL is https)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_hsts(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), HSTS]
            await send(message)

        await self.app(scope, receive, with_hsts)
