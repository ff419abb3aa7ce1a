"""API authentication: 401 answers say how to authenticate (RFC 6750), a scoped token is
held to its scopes, and reading a request's identities through the API is audited."""

from __future__ import annotations

from sqlalchemy import select

from rightful.core.db import unit_of_work
from rightful.security.models import AuditEvent
from rightful.security.permissions import system_actor
from rightful.security.service import access_staff, create_api_token
from tests.support.app import STAFF_EMAIL, App
from tests.support.roles import awaiting


def test_a_401_without_a_token_carries_a_bearer_challenge(rightful_app: App) -> None:
    answer = rightful_app.client.get("/api/v1/rights-requests")
    assert answer.status_code == 401
    assert answer.headers["www-authenticate"] == 'Bearer realm="rightful"'
    assert answer.headers["content-type"] == "application/problem+json"


def test_a_401_for_a_wrong_token_says_the_token_is_invalid(rightful_app: App) -> None:
    answer = rightful_app.client.get(
        "/api/v1/rights-requests", headers={"Authorization": "Bearer rf_abc_wrong"}
    )
    assert answer.status_code == 401
    assert answer.headers["www-authenticate"] == 'Bearer realm="rightful", error="invalid_token"'


def test_a_token_scoped_to_checks_may_check_but_not_read_requests(rightful_app: App) -> None:
    with unit_of_work(rightful_app.runtime.sessions) as session:
        owner = access_staff(session, email=STAFF_EMAIL)
        token = create_api_token(
            session,
            staff=owner,
            name="sender",
            actor=system_actor("test"),
            scopes=["consent.check"],
        )
    auth = {"Authorization": f"Bearer {token}"}
    c = rightful_app.client
    listed = c.get("/api/v1/rights-requests", headers=auth)
    assert listed.status_code == 403 and listed.json()["type"].endswith("/forbidden")
    body = {"email": "avery.quinn@example.com", "purpose": "marketing.offers", "channel": "email"}
    assert c.post("/api/v1/consent/check", headers=auth, json=body).status_code == 200


def test_reading_a_requests_identities_through_the_api_is_audited(rightful_app: App) -> None:
    request_id = awaiting(rightful_app.runtime)
    shown = rightful_app.client.get(
        f"/api/v1/rights-requests/{request_id}", headers=rightful_app.auth
    )
    assert shown.json()["identities"]["email"] == "avery.quinn@example.com"
    with rightful_app.runtime.sessions() as session:
        [event] = session.scalars(
            select(AuditEvent).where(
                AuditEvent.action == "staff.read_personal", AuditEvent.subject_id == request_id
            )
        )
    assert event.actor == STAFF_EMAIL and event.detail == {"what": "identities"}
