"""An integrator's call is matched against the API's routes, not first against every page and
console route (web/app.py: FastAPI tries routers in order), and the API reference keeps its
order."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.routing import APIRoute
from starlette.routing import Match
from starlette.types import Scope

from tests.support.app import App
from tests.web.test_api import ACCESS


@pytest.fixture
def tried(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The paths of the API routes (deferred or not) tried, in order, while matching."""
    paths: list[str] = []
    matches = APIRoute.matches

    def noting(route: APIRoute, scope: Scope) -> tuple[Match, Scope]:
        paths.append(route.path)
        return matches(route, scope)

    monkeypatch.setattr(APIRoute, "matches", noting)
    return paths


def test_a_rights_request_call_tries_no_page_or_console_route(
    rightful_app: App, tried: list[str]
) -> None:
    made = rightful_app.client.post(
        "/api/v1/rights-requests",
        json=ACCESS,
        headers=rightful_app.auth,
    )
    assert made.status_code == 201, made.text
    assert tried, "no route was matched"
    pages = (
        "/admin",
        "/requests",
        "/preferences",
        "/privacy",
        "/status",
        "/unsubscribe",
        "/appeal",
    )
    outside = [path for path in tried if path == "/" or path.startswith(pages)]
    assert outside == [], f"tried before the API's route: {outside}"


def test_pages_and_the_console_still_answer(rightful_app: App) -> None:
    assert rightful_app.client.get("/").status_code == 200
    assert rightful_app.client.get("/admin/login").status_code == 200
    assert rightful_app.client.get("/consent.js").status_code == 200


def test_the_api_reference_lists_the_banner_before_the_api(rightful_app: App) -> None:
    paths: list[Any] = list(rightful_app.client.get("/api/v1/openapi.json").json()["paths"])
    banner = paths.index("/consent/events")
    assert all(paths.index(path) > banner for path in paths if path.startswith("/api/v1/"))
