"""Routes built when first used, not when their module is imported (issue 12, cold start).

FastAPI builds a route twice: when its decorator runs (`APIRoute.__init__`: the endpoint's
dependencies, parameters and response model analysed, a pydantic field made for each), and
again, as the route the app actually answers with, when a request is first matched against the
router that holds it (FastAPI's included routers are resolved lazily, per router). The first
build of the ~180 routes was about a sixth of `rightful serve`'s CPU to its first answer, spent
before the server listened, on routes a probe or the first visitor never reaches.

`DeferredRoute` keeps what the decorator gave it and the two things `include_router` reads (its
path and name); the first time anything else is asked of it, it builds itself exactly as an
`APIRoute` would, with the same arguments. That happens when a request is first matched
against its router (or when the OpenAPI document or `url_for` walks the routes), so every
answer is the one an eagerly built route gives. A route that cannot be built fails there
instead of at import: `tests/web/test_routing.py` builds every route of the app, so such a
mistake still fails the tests.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter
from fastapi.routing import APIRoute
from starlette.routing import get_name

__all__ = ["DeferredRoute", "DeferredRouter", "build_all", "is_built"]

# One build at a time: a second thread asking a route under construction waits for it.
_BUILDING = threading.RLock()
_ARGS = "_deferred_route_args"


class DeferredRoute(APIRoute):
    """An `APIRoute` whose build waits until something other than its path or name is read."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **options: Any) -> None:
        # Set through __dict__: nothing here may look up a missing attribute (that builds).
        state = self.__dict__
        state[_ARGS] = (path, endpoint, options)
        state["path"] = path
        name = options.get("name")
        state["name"] = get_name(endpoint) if name is None else name

    def __getattr__(self, attribute: str) -> Any:
        # Only called for an attribute not found: the route is not built yet, or it has none.
        if attribute.startswith("__") or attribute == _ARGS:
            raise AttributeError(attribute)
        with _BUILDING:
            if not _build(self):
                # Built already (perhaps by another thread meanwhile): an attribute it has, or
                # a real AttributeError, exactly as an APIRoute answers.
                return object.__getattribute__(self, attribute)
        return getattr(self, attribute)


def _build(route: DeferredRoute) -> bool:
    """Build `route` if it was not yet; whether it was built now."""
    args = route.__dict__.pop(_ARGS, None)
    if args is None:
        return False
    path, endpoint, options = args
    try:
        APIRoute.__init__(route, path, endpoint, **options)
    except BaseException:
        route.__dict__[_ARGS] = args  # the next use fails the same way, not with a half route
        raise
    return True


def is_built(route: object) -> bool:
    """Whether a route is built (always, for a route that is not deferred)."""
    return _ARGS not in getattr(route, "__dict__", {})


def build_all(routes: list[Any]) -> int:
    """Build every deferred route in `routes` and in the routers they include; how many were
    built now."""
    built = 0
    for route in routes:
        if isinstance(route, DeferredRoute):
            with _BUILDING:
                built += _build(route)
        included = getattr(route, "original_router", None)  # FastAPI's included router
        if isinstance(included, APIRouter):
            built += build_all(list(included.routes))
    return built


class DeferredRouter(APIRouter):
    """An `APIRouter` whose routes are `DeferredRoute`s (unless given another `route_class`)."""

    def __init__(self, **options: Any) -> None:
        options.setdefault("route_class", DeferredRoute)
        super().__init__(**options)
