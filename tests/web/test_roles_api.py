"""Role by action over every API route: each answers a role without the permission with 403
problem+json and does nothing (no audit event, no change), and lets the roles with it through.

The table is checked against the app's own route list, so a route added without an entry here
(and so without a decided permission) fails `test_every_api_route_has_a_permission`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from rightful.connectors.sql import dispose_all
from rightful.core.runtime import Runtime
from rightful.security.permissions import Permission, Role
from rightful.web.app import create_app
from tests.support.app import make_settings, prepare
from tests.support.roles import ROLES, Member, add_staff, allowed, audit_count, awaiting, status_of

P = Permission
WHO = {"email": "avery.quinn@example.com"}
CHOICE = {"purpose": "marketing.offers", "channel": "email", "state": "withdrawn"}
REASON = {"reason": "Explained to the person in full."}
RID = "/api/v1/rights-requests/{request_id}"
OFFERS = {
    "key": "marketing.offers",
    "kind": "marketing",
    "title": "Offers and sales",
    "description": "Discounts, sales and early access to new devices.",
    "channels": ["email", "sms", "post"],
    "default": "withdrawn",
    "data_use": "marketing.communications.email",
}

# (method, path) -> (what it needs, the body to send). A new route needs a row here.
API: dict[tuple[str, str], tuple[tuple[Permission, ...], Any]] = {
    ("POST", "/api/v1/rights-requests"): ((P.REQUESTS_SUBMIT,), "submission"),
    ("POST", "/api/v1/rights-requests/batch"): ((P.REQUESTS_SUBMIT,), "batch"),
    ("GET", "/api/v1/rights-requests"): ((P.REQUESTS_VIEW,), None),
    ("GET", RID): ((P.REQUESTS_VIEW, P.REQUESTS_READ_PERSONAL), None),
    ("POST", RID + "/verify"): ((P.REQUESTS_SUBMIT,), {"code": "000000"}),
    ("POST", RID + "/approve"): ((P.REQUESTS_DECIDE,), None),
    ("POST", RID + "/deny"): ((P.REQUESTS_DECIDE,), REASON),
    ("POST", RID + "/extend"): ((P.REQUESTS_DECIDE,), REASON),
    ("POST", RID + "/complete"): ((P.REQUESTS_DECIDE,), {"note": "Done by hand, in full."}),
    ("POST", RID + "/partners/{partner_key}/waive"): (
        (P.REQUESTS_DECIDE,),
        {"reason": "The partner has closed down.", "explanation": "The partner closed down."},
    ),
    ("GET", RID + "/correction-preview"): ((P.REQUESTS_READ_PERSONAL,), None),
    ("GET", RID + "/erasure-preview"): ((P.REQUESTS_PREPARE,), None),
    ("GET", RID + "/package"): ((P.REQUESTS_READ_PERSONAL,), None),
    ("POST", "/api/v1/suppressions/check"): ((P.CONSENT_CHECK,), {"emails": [WHO["email"]]}),
    ("GET", "/api/v1/retention/preview"): ((P.REQUESTS_PREPARE,), None),
    ("GET", "/api/v1/inventory"): ((P.INVENTORY_VIEW,), None),
    ("POST", "/api/v1/inventory"): ((P.INVENTORY_MANAGE,), []),
    ("GET", "/api/v1/inventory/export"): ((P.INVENTORY_VIEW,), None),
    ("GET", "/api/v1/outbox"): ((P.OUTBOX_READ,), None),
    ("POST", "/api/v1/outbox/{message_id}/resend"): ((P.OUTBOX_RESEND,), None),
    ("GET", "/api/v1/consent/purposes"): ((P.CONSENT_VIEW,), None),
    ("PUT", "/api/v1/consent/purposes"): ((P.CONSENT_MANAGE,), {"purposes": [OFFERS]}),
    ("GET", "/api/v1/consent/banner"): ((P.CONSENT_VIEW,), None),
    ("POST", "/api/v1/consent/state"): ((P.CONSENT_READ_PERSONAL,), WHO),
    ("POST", "/api/v1/consent/check"): (
        (P.CONSENT_CHECK,),
        {**WHO, "purpose": "marketing.offers", "channel": "email"},
    ),
    ("POST", "/api/v1/consent/history"): ((P.CONSENT_READ_PERSONAL,), WHO),
    ("POST", "/api/v1/consent/events"): ((P.CONSENT_RECORD,), {**WHO, "choices": [CHOICE]}),
    ("GET", "/api/v1/consent/verify"): ((P.CONSENT_VIEW,), None),
    ("POST", "/api/v1/consent/unsubscribe-headers"): (
        (P.MARKETING_SEND,),
        {**WHO, "topic": "marketing.offers"},
    ),
    ("POST", "/api/v1/marketing/messages"): (
        (P.MARKETING_SEND,),
        {"to": WHO["email"], "topic": "marketing.offers", "subject": "Hi", "text": "Hello"},
    ),
    ("POST", "/api/v1/suppressions/bulk"): ((P.CONSENT_CHECK,), {"emails": [WHO["email"]]}),
    ("GET", "/api/v1/suppressions/export"): ((P.CONSENT_CHECK,), None),
    ("GET", "/api/v1/consent/destinations"): ((P.CONSENT_VIEW,), None),
    ("GET", "/api/v1/consent/deliveries"): ((P.CONSENT_VIEW,), None),
    ("POST", "/api/v1/consent/deliveries/{delivery_id}/retry"): ((P.CONSENT_MANAGE,), None),
    ("POST", "/api/v1/consent/sms-replies"): (
        (P.CONSENT_RECORD,),
        {"phone": "+1 415 555 0134", "text": "STOP"},
    ),
    ("POST", "/api/v1/consent/phone-links"): (
        (P.CONSENT_RECORD,),
        {"phone": "+1 415 555 0134", **WHO},
    ),
    ("POST", "/api/v1/suppressions/phones"): ((P.CONSENT_CHECK,), {"phones": ["+14155550134"]}),
    ("POST", "/api/v1/consent/subscriptions"): (
        (P.CONSENT_RECORD,),
        {"email": "new.reader@example.com", "topics": ["marketing.newsletter"]},
    ),
    ("GET", "/api/v1/audit/verify"): ((P.AUDIT_VERIFY,), None),
    ("PUT", "/api/v1/systems/{system_key}/connection"): (
        (P.INVENTORY_MANAGE,),
        {"kind": "sql", "settings": {"url": "sqlite:///:memory:"}},
    ),
    ("POST", "/api/v1/systems/{system_key}/connection/test"): ((P.INVENTORY_MANAGE,), None),
    ("GET", "/api/v1/tasks"): ((P.REQUESTS_VIEW,), None),
    ("GET", "/api/v1/tasks/{task_id}"): ((P.REQUESTS_VIEW,), None),
    ("POST", "/api/v1/tasks/{task_id}/complete"): (
        (P.REQUESTS_READ_PERSONAL,),
        {"outcome": "nothing_found"},
    ),
    ("POST", "/api/v1/tasks/{task_id}/waive"): (
        (P.REQUESTS_DECIDE,),
        {"reason": "Cannot be done, told in full."},
    ),
    ("GET", "/api/v1/appeals"): ((P.REQUESTS_VIEW,), None),
    ("GET", "/api/v1/reports/records"): ((P.REQUESTS_VIEW,), None),
    ("GET", "/api/v1/reports/metrics/{year}"): ((P.REQUESTS_VIEW,), None),
    ("POST", "/api/v1/appeals/{appeal_id}/decision"): (
        (P.REQUESTS_DECIDE,),
        {"outcome": "upheld", "explanation": "Explained to the person in full."},
    ),
    ("POST", "/api/v1/appeals/{appeal_id}/extension"): (
        (P.REQUESTS_DECIDE,),
        {"reason": "Many systems to search again for this appeal."},
    ),
}


@pytest.fixture(scope="module")
def matrix(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Runtime, TestClient]]:
    """One Rightful for the whole matrix, with a staff member of each role."""
    runtime = prepare(make_settings(Path(tmp_path_factory.mktemp("roles"))))
    with TestClient(create_app(runtime, start_worker=False)) as client:
        yield runtime, client
    runtime.engine.dispose()
    dispose_all()


@pytest.fixture(scope="module")
def members(matrix: tuple[Runtime, TestClient]) -> dict[Role, Member]:
    return add_staff(matrix[0])


def api_routes(client: TestClient) -> set[tuple[str, str]]:
    """Every /api/v1 operation, from the app's own OpenAPI document (the banner's public
    endpoints live outside /api/v1)."""
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    return {
        (method.upper(), path)
        for path, operations in paths.items()
        if path.startswith("/api/v1/")
        for method in operations
    }


def test_every_api_route_has_a_permission(matrix: tuple[Runtime, TestClient]) -> None:
    assert api_routes(matrix[1]) == set(API)


def _call(client: TestClient, method: str, url: str, member: Member, body: Any) -> Any:
    if body == "submission":
        body = {
            "request_type": "access",
            "email": f"{member.role.value}.matrix@example.com",
            "declaration_signature": "A Person",
        }
    if body == "batch":  # the same permission as one request: each line is one (rights/bulk.py)
        line = {
            "external_id": f"{member.role.value}-matrix",
            "request_type": "delete",
            "email": f"{member.role.value}.batch@example.com",
        }
        body = {"source": "Role matrix", "requests": [line]}
    kwargs: dict[str, Any] = {"headers": member.auth}
    if body is not None:
        kwargs["json"] = body
    return client.request(method, url, **kwargs)


@pytest.mark.parametrize(("method", "path"), sorted(API), ids=lambda v: str(v))
def test_each_role_may_call_only_what_its_permissions_allow(
    matrix: tuple[Runtime, TestClient], members: dict[Role, Member], method: str, path: str
) -> None:
    runtime, client = matrix
    needs, body = API[(method, path)]
    request_id = awaiting(runtime)
    url = path.format(
        request_id=request_id,
        partner_key="nobody",
        delivery_id=1,
        appeal_id="none",
        task_id="none",
        system_key="nowhere",
        year=2025,
        message_id=1,  # recorded without a mail server: allowed roles get 409
    )
    for role in ROLES:  # least first: the refusals happen before any allowed call changes things
        before = audit_count(runtime)
        answer = _call(client, method, url, members[role], body)
        if allowed(role, needs):
            assert answer.status_code not in (401, 403), (role, answer.text)
            continue
        assert answer.status_code == 403, (role, answer.status_code, answer.text)
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.json()["type"].endswith("/forbidden")
        assert audit_count(runtime) == before, f"{role} was refused but something was recorded"
        assert status_of(runtime, request_id) == "awaiting_approval"


def test_a_deletion_needs_erasure_approve_as_well_as_decide(
    matrix: tuple[Runtime, TestClient], members: dict[Role, Member]
) -> None:
    runtime, client = matrix
    request_id = awaiting(runtime, "delete")
    for role in (Role.VIEWER, Role.ANALYST):
        url = f"/api/v1/rights-requests/{request_id}/approve"
        assert client.post(url, headers=members[role].auth).status_code == 403
    assert status_of(runtime, request_id) == "awaiting_approval"
    url = f"/api/v1/rights-requests/{request_id}/approve"
    assert client.post(url, headers=members[Role.APPROVER].auth).status_code == 200
    assert status_of(runtime, request_id) == "executing"
