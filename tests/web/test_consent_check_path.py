"""The consent check's lean path (web/api/check_path.py): the route's answers, one connection."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, select

from rightful.core.db import unit_of_work
from rightful.security.api_tokens import revoke_token
from rightful.security.models import ApiToken
from rightful.security.permissions import system_actor
from rightful.web.app import create_app
from tests.support.app import App, make_settings, officer_token, prepare

CHECK = "/api/v1/consent/check"
PERSON = "robin@example.com"
PROBLEM = "application/problem+json"


@pytest.fixture
def checks_app(tmp_path: Path) -> Iterator[App]:
    """Rightful on SQLite with one person's choices; the token checked on every call."""
    runtime = prepare(make_settings(tmp_path, api_token_cache_seconds=0), people=2)
    token = officer_token(runtime)
    with TestClient(create_app(runtime, start_worker=False)) as client:
        app = App(runtime, client, token)
        choices = [
            {"purpose": "marketing.offers", "channel": "email", "state": "given"},
            {"purpose": "sale_share", "channel": "all", "state": "withdrawn"},
        ]
        made = client.post(
            "/api/v1/consent/events", json={"email": PERSON, "choices": choices}, headers=app.auth
        )
        assert made.status_code == 201, made.text
        yield app
    runtime.engine.dispose()


def problem(status: int, code: str, title: str, detail: str, **more: Any) -> dict[str, Any]:
    return {
        "type": f"https://rightful.dev/problems/{code}",
        "title": title,
        "status": status,
        "detail": detail,
        "instance": CHECK,
        **more,
    }


def invalid(field: str, message: str) -> dict[str, Any]:
    return problem(
        422,
        "invalid_input",
        "Your input needs attention",
        f"{field}: {message}",
        errors=[{"field": field, "message": message}],
    )


NOT_AN_OBJECT = invalid(
    "body", "Input should be a valid dictionary or object to extract fields from"
)
WELL_FORMED = {
    "allowed": (
        {"email": "Robin@Example.com", "purpose": "marketing.offers", "channel": "email"},
        {"allowed": True, "state": "given", "reason": "consent given"},
    ),
    "denied": (
        {"email": PERSON, "purpose": "sale_share", "channel": "all"},
        {"allowed": False, "state": "withdrawn", "reason": "consent withdrawn"},
    ),
    "unknown person": (
        {"email": "nobody@example.com", "purpose": "marketing.offers", "channel": "email"},
        {"allowed": False, "state": "withdrawn", "reason": "default: not allowed"},
    ),
}


@pytest.mark.parametrize("case", list(WELL_FORMED))
def test_a_check_answers_as_the_route_did_on_one_connection(checks_app: App, case: str) -> None:
    body, expected = WELL_FORMED[case]
    checkouts: list[object] = []
    engine = checks_app.runtime.engine
    listen = lambda *_: checkouts.append(1)  # noqa: E731 - a counter, removed below
    event.listen(engine, "checkout", listen)
    try:
        answer = checks_app.client.post(CHECK, json=body, headers=checks_app.auth)
    finally:
        event.remove(engine, "checkout", listen)
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/json"
    assert answer.headers["cache-control"] == "no-store"  # the middleware outside still runs
    assert answer.json() == expected
    # The token and the check read in one session: the route took a connection for each.
    assert len(checkouts) == 1


BAD: dict[str, tuple[dict[str, Any], int, dict[str, Any]]] = {
    "unknown subject id": (
        {"json": {"subject_id": "0" * 32, "purpose": "marketing.offers", "channel": "email"}},
        404,
        problem(404, "not_found", "Not found", "There is no such consent subject."),
    ),
    "two subjects": (
        {"json": {"email": PERSON, "device_id": "d1", "purpose": "sale_share", "channel": "all"}},
        422,
        invalid(
            "body", "Name the subject by exactly one of email, phone, device_id or subject_id."
        ),
    ),
    "missing channel": (
        {"json": {"email": PERSON, "purpose": "sale_share"}},
        422,
        invalid("channel", "Field required"),
    ),
    "not JSON": (
        {"content": b"{nope", "headers": {"content-type": "application/json"}},
        422,
        invalid("1", "JSON decode error"),
    ),
    "a list": ({"json": [1]}, 422, NOT_AN_OBJECT),
    "text/plain": (
        {
            "content": b'{"email":"a@b.c","purpose":"sale_share","channel":"all"}',
            "headers": {"content-type": "text/plain"},
        },
        422,
        NOT_AN_OBJECT,
    ),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_checks_get_the_routes_problem_documents(checks_app: App, case: str) -> None:
    sent, status, expected = BAD[case]
    sent = dict(sent)
    headers = checks_app.auth | sent.pop("headers", {})
    answer = checks_app.client.post(CHECK, headers=headers, **sent)
    assert answer.status_code == status
    assert answer.headers["content-type"] == PROBLEM
    assert answer.json() == expected


def test_an_unknown_purpose_is_named(checks_app: App) -> None:
    body = {"email": PERSON, "purpose": "nope", "channel": "email"}
    answer = checks_app.client.post(CHECK, json=body, headers=checks_app.auth)
    assert answer.status_code == 422
    assert answer.headers["content-type"] == PROBLEM
    assert answer.json()["errors"][0]["field"] == "purpose"
    assert answer.json()["detail"].startswith("There is no purpose 'nope'.")


def test_a_revoked_or_missing_token_is_refused(checks_app: App) -> None:
    body = {"email": PERSON, "purpose": "marketing.offers", "channel": "email"}
    assert checks_app.client.post(CHECK, json=body, headers=checks_app.auth).json()["allowed"]
    with unit_of_work(checks_app.runtime.sessions) as session:
        prefix = session.scalar(select(ApiToken.prefix))
        assert prefix is not None
        revoke_token(session, prefix=prefix, actor=system_actor("test"))
    refused = checks_app.client.post(CHECK, json=body, headers=checks_app.auth)
    assert refused.status_code == 401
    assert refused.headers["www-authenticate"] == 'Bearer realm="rightful", error="invalid_token"'
    assert refused.json() == problem(
        401,
        "not_allowed",
        "Sign-in required",
        "The bearer token is missing, expired, revoked or wrong.",
    )
    anonymous = checks_app.client.post(CHECK, json=body)
    assert anonymous.status_code == 401
    assert anonymous.headers["www-authenticate"] == 'Bearer realm="rightful"'
