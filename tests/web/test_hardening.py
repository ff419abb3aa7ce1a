"""Small hardening of every answer: bodies too deep or too large, caching, ids out of range."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from tests.support.app import AVERY, App
from tests.web.test_admin import sign_in

PROBLEM = "application/problem+json"
TOO_DEEP = "[" * 5000 + "]" * 5000  # 10 kB, well under the body limit
BIG_ID = 2**64  # more than any 64-bit INTEGER column holds


def chunks(total: int, size: int = 1000) -> Iterator[bytes]:
    """A body sent chunked: no Content-Length for the limit to read in advance."""
    for _ in range(total // size):
        yield b" " * size


def test_a_deeply_nested_json_body_is_a_400_problem_not_a_server_error(rightful_app: App) -> None:
    r = rightful_app.client.post(
        "/api/v1/rights-requests",
        content=TOO_DEEP,
        headers={**rightful_app.auth, "Content-Type": "application/json"},
    )
    assert r.status_code == 400
    assert r.headers["content-type"] == PROBLEM
    assert r.json()["type"].endswith("/unreadable_body")
    assert "nested too deeply" in r.json()["detail"]


def test_a_deeply_nested_banner_event_is_a_400_problem_not_a_server_error(
    rightful_app: App,
) -> None:
    r = rightful_app.client.post(
        "/consent/events", content=TOO_DEEP, headers={"Content-Type": "text/plain"}
    )
    assert r.status_code == 400
    assert r.headers["content-type"] == PROBLEM
    assert "nested too deeply" in r.json()["detail"]


def test_a_chunked_body_over_the_limit_is_refused_with_413(rightful_app: App) -> None:
    limit = rightful_app.runtime.settings.max_body_bytes
    r = rightful_app.client.post(
        "/api/v1/rights-requests",
        content=chunks(limit + 10_000),
        headers={**rightful_app.auth, "Content-Type": "application/json"},
    )
    assert r.status_code == 413
    assert r.headers["content-type"] == PROBLEM
    assert str(limit) in r.json()["detail"]


def test_a_chunked_body_under_the_limit_is_read_as_usual(rightful_app: App) -> None:
    body = b'{"emails": ["someone@example.com"]}'
    r = rightful_app.client.post(
        "/api/v1/suppressions/check",
        content=iter([body[:10], body[10:]]),
        headers={**rightful_app.auth, "Content-Type": "application/json"},
    )
    assert r.status_code == 200, r.text
    assert r.json() == {"suppressed": []}


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/requests/new?type=access",
        "/status/not-a-token",
        "/download/not-a-token",
        "/unsubscribe/not-a-token",
        "/preferences",
        "/admin/login",
        "/admin",
        "/admin/requests/no-such-request",
        "/admin/outbox",
        "/admin/data-map",
        "/admin/consent",
        "/api/v1/rights-requests",
        "/api/v1/outbox",
        "/api/v1/inventory",
        "/api/v1/consent/history?email=avery.quinn@example.com",
        "/api/v1/openapi.json",
        "/api/docs",
        "/no-such-page",
    ],
)
def test_pages_and_api_answers_are_never_stored_by_caches(rightful_app: App, path: str) -> None:
    sign_in(rightful_app)
    r = rightful_app.client.get(path, headers=rightful_app.auth, follow_redirects=False)
    assert r.headers["cache-control"] == "no-store", f"{path} answered {r.status_code}"


def test_a_refused_body_is_not_stored_by_caches_either(rightful_app: App) -> None:
    r = rightful_app.client.post(
        "/api/v1/rights-requests",
        content=b"x" * (rightful_app.runtime.settings.max_body_bytes + 1),
        headers=rightful_app.auth,
    )
    assert r.status_code == 413
    assert r.headers["cache-control"] == "no-store"


def test_static_files_and_public_banner_files_may_be_cached(rightful_app: App) -> None:
    assert "cache-control" not in rightful_app.client.get("/static/consent.js").headers
    assert "public" in rightful_app.client.get("/consent.js").headers["cache-control"]
    assert "public" in rightful_app.client.get("/.well-known/gpc.json").headers["cache-control"]


def test_an_id_too_large_for_the_database_is_invalid_input_not_a_server_error(
    rightful_app: App,
) -> None:
    api = rightful_app.client.post(
        f"/api/v1/consent/deliveries/{BIG_ID}/retry", headers=rightful_app.auth
    )
    assert api.status_code == 422
    assert api.headers["content-type"] == PROBLEM
    sign_in(rightful_app)
    page = rightful_app.client.get(f"/admin/outbox/{BIG_ID}")
    assert page.status_code == 422


def test_a_rights_request_with_an_empty_email_is_refused_by_name(rightful_app: App) -> None:
    body = {
        "request_type": "access",
        "channel": "api",
        "declaration_signature": "Avery Quinn",
        **AVERY,
        "email": "",
    }
    r = rightful_app.client.post("/api/v1/rights-requests", headers=rightful_app.auth, json=body)
    assert r.status_code == 422
    assert [e["field"] for e in r.json()["errors"]] == ["email"]


def test_an_unexpected_error_carries_the_security_headers_and_is_not_stored(
    rightful_app: App,
) -> None:
    def broken() -> None:
        raise RuntimeError("a bug")

    app = rightful_app.client.app
    app.add_api_route("/api/v1/test-broken", broken)  # type: ignore[attr-defined]
    r = TestClient(app, raise_server_exceptions=False).get("/api/v1/test-broken")
    assert r.status_code == 500
    assert r.headers["content-type"] == PROBLEM
    assert r.headers["cache-control"] == "no-store"
    assert r.headers["x-frame-options"] == "DENY"
    assert "default-src 'self'" in r.headers["content-security-policy"]
