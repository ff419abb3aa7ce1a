"""What both stand-in APIs do before a handler: check the caller's credentials."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

Endpoint = Callable[[Request], Awaitable[Response]]


def guarded(refusal: Callable[[Request], Response | None], handler: Any) -> Endpoint:
    """An endpoint that answers the refusal when there is one, else runs the handler (a plain
    function runs in the thread pool: the stores are SQLite files)."""

    async def endpoint(request: Request) -> Response:
        refused = refusal(request)
        if refused is not None:
            return refused
        if inspect.iscoroutinefunction(handler):
            answer: Response = await handler(request)
        else:
            answer = await run_in_threadpool(handler, request)
        return answer

    return endpoint
