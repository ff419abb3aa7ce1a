"""The consent event endpoints tried first.

FastAPI tries an app's routes in order, router after router, and through included routers
twice (once to find the router, once to find the route in it): the API's `POST
/api/v1/consent/events` came after some 160 routes, and matching them cost more CPU than the
rest of the request (profiled in process: about half of FastAPI's time for that request), the
banner's `POST /consent/events` after fewer. A site's visitors send these all the time.

Here both endpoints are registered again, ahead of every other route: the same functions, with
the same route class (the banner's cross-origin answers), dependencies (the API's token) and
status, hidden from the OpenAPI document, which keeps the originals. No route before the
originals matches a POST to these paths (else the originals were never reached), so the route
that answers, and every answer, is the same; another method still falls through to the
originals (a preflight, a 405).
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, FastAPI

from rightful.web.api.consent_routes import record_events
from rightful.web.api.routes import api_actor
from rightful.web.banner.routes import banner_events, cross_origin_route

__all__ = ["install_first", "router"]

router = APIRouter(include_in_schema=False)
router.add_api_route(
    "/consent/events", banner_events, methods=["POST"], route_class_override=cross_origin_route
)
router.add_api_route(
    "/api/v1/consent/events",
    record_events,
    methods=["POST"],
    status_code=201,
    dependencies=[Depends(api_actor)],
)


def install_first(app: FastAPI) -> None:
    """Include the event endpoints before the routes added so far."""
    app.include_router(router)
    app.router.routes.insert(0, app.router.routes.pop())
