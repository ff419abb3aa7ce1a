"""The consent event endpoints are the first routes tried (web/hot_routes.py), with the answers
they always gave; and an API token this process holds is accepted on the event loop."""

from __future__ import annotations

import threading
from typing import Any

import anyio
from anyio import to_thread
from fastapi import Depends
from fastapi.testclient import TestClient
from starlette.types import ASGIApp, Receive, Scope, Send

from rightful.security.permissions import Actor
from rightful.web import hot_routes
from rightful.web.api.routes import api_actor
from tests.support.app import App

CHOICE = {"purpose": "marketing.offers", "channel": "email", "state": "given"}


class _Routed:
    """Notes which route answered each request (FastAPI sets `route` in the request's scope)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.routes: list[Any] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)
        if scope["type"] == "http":
            self.routes.append(scope.get("route"))


def test_event_posts_are_answered_by_the_first_routes_tried(rightful_app: App) -> None:
    app = rightful_app.client.app
    routed = _Routed(app)
    client = TestClient(routed)
    made = client.post(
        "/api/v1/consent/events",
        json={"email": "robin.vale@example.com", "choices": [CHOICE]},
        headers=rightful_app.auth,
    )
    banner = client.post(
        "/consent/events",
        json={"device_id": "d" * 22, "choices": {"functional": True}},
        headers={"Origin": "https://shop.example"},
    )
    preflight = client.options("/consent/events")
    assert made.status_code == 201, made.text
    assert banner.status_code == 200 and banner.json()["recorded"] == 1, banner.text
    assert banner.headers["Access-Control-Allow-Origin"] == "*"  # the banner's route class
    assert preflight.status_code == 204  # other methods still reach the original routes
    hot = hot_routes.router.routes
    assert routed.routes[0] is hot[1] and routed.routes[1] is hot[0]
    assert routed.routes[2] not in hot
    assert app.router.routes[0].original_router is hot_routes.router  # type: ignore[attr-defined]


def test_a_hot_route_keeps_the_api_token_and_its_problem(rightful_app: App) -> None:
    body = {"email": "robin.vale@example.com", "choices": [CHOICE]}
    refused = rightful_app.client.post("/api/v1/consent/events", json=body)
    assert refused.status_code == 401
    wrong = rightful_app.client.post(
        "/api/v1/consent/events", json=body, headers={"Authorization": "Bearer rf_nothing"}
    )
    assert wrong.status_code == 401


def test_the_schema_names_each_event_endpoint_once(rightful_app: App) -> None:
    paths = rightful_app.client.get("/api/v1/openapi.json").json()["paths"]
    assert list(paths["/consent/events"]) == ["post"]
    assert list(paths["/api/v1/consent/events"]) == ["post"]


async def _whoami(actor: Actor = Depends(api_actor)) -> dict[str, str]:
    return {"name": actor.name}


async def _release(limiter: anyio.CapacityLimiter, holder: object) -> None:
    limiter.release_on_behalf_of(holder)


def test_a_held_token_is_accepted_while_every_worker_thread_is_busy(rightful_app: App) -> None:
    client = rightful_app.client
    client.app.add_api_route("/api/v1/test-whoami", _whoami)  # type: ignore[attr-defined]
    assert client.get("/api/v1/test-whoami", headers=rightful_app.auth).status_code == 200
    portal = client.portal
    assert portal is not None
    limiter = portal.call(to_thread.current_default_thread_limiter)
    holders = [object() for _ in range(int(limiter.total_tokens))]
    for holder in holders:  # what long writes in flight do to the thread pool
        portal.call(limiter.acquire_on_behalf_of, holder)
    answered: list[int] = []
    asking = threading.Thread(
        target=lambda: answered.append(
            client.get("/api/v1/test-whoami", headers=rightful_app.auth).status_code
        ),
        daemon=True,
    )
    try:
        asking.start()
        asking.join(timeout=30)
        assert answered == [200]  # a token looked up in a thread would still wait for one
    finally:
        for holder in holders:
            portal.call(_release, limiter, holder)
        asking.join(timeout=30)
