"""Role by action over every console page: a role without the permission gets a 403 page and
nothing happens; pages show only what the role may use; reading a person's identities or
choices is an audit event.

The table is checked against the console's own routes, so a page added without an entry here
fails `test_every_console_page_has_a_permission`.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

import rightful.web.admin
from rightful.connectors.sql import dispose_all
from rightful.consent import subjects
from rightful.core.runtime import Runtime
from rightful.messaging.service import list_outbox
from rightful.rights.flows import submit
from rightful.rights.schemas import RequestIn
from rightful.security.models import ApiToken, AuditEvent, StaffUser
from rightful.security.permissions import Permission, Role, system_actor
from rightful.security.service import create_staff
from rightful.web.app import create_app
from tests.support.app import make_settings, prepare
from tests.support.roles import ROLES, Member, add_staff, allowed, audit_count, awaiting, status_of

P = Permission
ANY_STAFF: tuple[Permission, ...] = ()  # any signed-in staff member (their own account)
PUBLIC = None  # before sign-in
REQ = "/admin/requests/{request_id}"

# (method, path) -> (what it needs, the form to post). A new console route needs a row here.
CONSOLE: dict[tuple[str, str], tuple[tuple[Permission, ...] | None, dict[str, str] | None]] = {
    ("GET", "/admin"): ((P.REQUESTS_VIEW,), None),
    ("GET", REQ): ((P.REQUESTS_VIEW,), None),
    ("POST", "/admin/requests/{request_id}/{action}"): ((P.REQUESTS_DECIDE,), {}),
    ("GET", "/admin/appeals"): ((P.REQUESTS_VIEW,), None),
    ("GET", "/admin/tasks"): ((P.REQUESTS_VIEW,), None),
    ("GET", "/admin/tasks/{task_id}"): ((P.REQUESTS_VIEW,), None),
    ("POST", "/admin/tasks/{task_id}/complete"): (
        (P.REQUESTS_READ_PERSONAL,),
        {"outcome": "nothing_found"},
    ),
    ("POST", "/admin/tasks/{task_id}/waive"): (
        (P.REQUESTS_DECIDE,),
        {"reason": "Cannot be done, told in full."},
    ),
    ("GET", "/admin/laws"): (ANY_STAFF, None),  # the law, no personal data
    ("GET", "/admin/drop"): ((P.REQUESTS_VIEW,), None),  # DROP's clock and counts
    # The morning view and the lists behind its counts; the records name requests by reference.
    ("GET", "/admin/today"): ((P.REQUESTS_VIEW,), None),
    ("GET", "/admin/today/requests"): ((P.REQUESTS_VIEW,), None),
    ("GET", "/admin/today/partners"): ((P.REQUESTS_VIEW,), None),
    ("GET", "/admin/reports/records.csv"): ((P.REQUESTS_VIEW,), None),
    ("GET", "/admin/appeals/{appeal_id}"): ((P.REQUESTS_VIEW,), None),
    ("POST", "/admin/appeals/{appeal_id}/decide"): (
        (P.REQUESTS_DECIDE,),
        {"outcome": "upheld", "explanation": "Explained to the person in full."},
    ),
    ("POST", "/admin/appeals/{appeal_id}/extend"): (
        (P.REQUESTS_DECIDE,),
        {"reason": "Many systems to search again for this appeal."},
    ),
    ("GET", "/admin/intake"): ((P.REQUESTS_SUBMIT,), None),
    ("POST", "/admin/intake"): ((P.REQUESTS_SUBMIT,), {"channel": "post", "name": "Lee Post"}),
    ("POST", "/admin/intake/{request_id}/identity"): (
        (P.REQUESTS_SUBMIT,),
        {"identity_method": "signed_letter"},
    ),
    ("POST", "/admin/intake/{request_id}/by-hand"): ((P.REQUESTS_DECIDE,), {"note": "Done."}),
    ("POST", "/admin/intake/{request_id}/ask-consumer"): ((P.REQUESTS_DECIDE,), {}),
    ("POST", "/admin/intake/{request_id}/permission"): ((P.REQUESTS_DECIDE,), {"valid": "yes"}),
    ("GET", "/admin/intake/{request_id}/documents/{doc_id}"): (
        (P.REQUESTS_READ_PERSONAL,),
        None,
    ),
    ("GET", "/admin/intake/{request_id}/letters/{message_id}"): (
        (P.OUTBOX_READ, P.REQUESTS_READ_PERSONAL),
        None,
    ),
    ("GET", "/admin/outbox"): ((P.OUTBOX_READ,), None),
    ("GET", "/admin/outbox/{message_id}"): ((P.OUTBOX_READ,), None),
    ("POST", "/admin/outbox/{message_id}/resend"): ((P.OUTBOX_RESEND,), {}),
    ("GET", "/admin/data-map"): ((P.INVENTORY_VIEW,), None),
    ("GET", "/admin/notices"): ((P.INVENTORY_VIEW,), None),
    ("GET", "/admin/notices/diff"): ((P.INVENTORY_VIEW,), None),
    ("GET", "/admin/notices/{number}"): ((P.INVENTORY_VIEW,), None),
    ("GET", "/admin/consent"): ((P.CONSENT_VIEW,), None),
    ("POST", "/admin/consent/lookup"): (
        (P.CONSENT_READ_PERSONAL,),
        {"email": "avery.quinn@example.com"},
    ),
    ("GET", "/admin/consent/subjects/{subject_id}"): ((P.CONSENT_READ_PERSONAL,), None),
    ("POST", "/admin/consent/subjects/{subject_id}/record"): (
        (P.CONSENT_READ_PERSONAL, P.CONSENT_RECORD),
        {"choice": "marketing.offers|post", "state": "withdrawn", "proof": "Letter of 3 May"},
    ),
    ("POST", "/admin/consent/deliveries/{delivery_id}/retry"): ((P.CONSENT_MANAGE,), {}),
    ("GET", "/admin/tokens"): ((P.TOKENS_MANAGE,), None),
    ("POST", "/admin/tokens/{prefix}/revoke"): ((P.TOKENS_MANAGE,), {}),
    ("GET", "/admin/staff"): ((P.STAFF_MANAGE,), None),
    ("POST", "/admin/staff/invite"): (
        (P.STAFF_MANAGE,),
        {"email": "new.analyst@lumen.example", "name": "New Analyst", "role": "analyst"},
    ),
    ("POST", "/admin/staff/{staff_id}/role"): ((P.STAFF_MANAGE,), {"role": "viewer"}),
    ("POST", "/admin/staff/{staff_id}/unlock"): ((P.STAFF_MANAGE,), {}),
    ("POST", "/admin/staff/{staff_id}/deactivate"): ((P.STAFF_MANAGE,), {}),
    ("GET", "/admin/welcome/{token}"): (PUBLIC, None),
    ("POST", "/admin/welcome/{token}"): (PUBLIC, None),
    # Sign-in and each person's own account (docs/security.md, sessions): not role actions.
    ("GET", "/admin/login"): (PUBLIC, None),
    ("GET", "/admin/cases"): ((P.REQUESTS_VIEW,), None),
    ("POST", "/admin/cases"): ((P.REQUESTS_SUBMIT,), {"kind": "question", "channel": "phone"}),
    ("GET", "/admin/cases/{case_id}"): ((P.REQUESTS_VIEW,), None),
    ("POST", "/admin/cases/{case_id}/assign"): ((P.REQUESTS_SUBMIT,), {"to": ""}),
    ("POST", "/admin/cases/{case_id}/reply"): ((P.REQUESTS_SUBMIT,), {"text": "An answer."}),
    ("POST", "/admin/cases/{case_id}/link"): ((P.REQUESTS_SUBMIT,), {"request": "R-NONE"}),
    ("POST", "/admin/cases/{case_id}/confirm"): ((P.REQUESTS_SUBMIT,), {}),
    ("POST", "/admin/cases/{case_id}/close"): ((P.REQUESTS_SUBMIT,), {"outcome": "answered"}),
    ("POST", "/admin/login"): (PUBLIC, None),
    ("POST", "/admin/logout"): (ANY_STAFF, None),
    ("GET", "/admin/account"): (ANY_STAFF, None),
    ("POST", "/admin/account/password"): (ANY_STAFF, None),
    ("POST", "/admin/account/second-factor"): (ANY_STAFF, None),
    ("POST", "/admin/account/second-factor/confirm"): (ANY_STAFF, None),
}
ACTIONS = {  # each of /admin/requests/{id}/{action}, with its form
    "approve": {},
    "deny": {"reason": "Explained to the person in full."},
    "extend": {"reason": "Explained to the person in full."},
    "waive": {"partner": "nobody", "reason": "It closed down.", "explanation": "It closed."},
    "complete": {"reason": "Done by hand, in full."},
}


def console_routes() -> set[tuple[str, str]]:
    """Every route of every module under web/admin."""
    found = set()
    for info in pkgutil.iter_modules(rightful.web.admin.__path__):
        router = getattr(importlib.import_module(f"rightful.web.admin.{info.name}"), "router", None)
        for route in getattr(router, "routes", []):
            if isinstance(route, APIRoute):
                found |= {(m, route.path) for m in route.methods}
    return found


def test_every_console_page_has_a_permission() -> None:
    assert console_routes() == set(CONSOLE)


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    runtime = prepare(make_settings(Path(tmp_path_factory.mktemp("console"))))
    yield runtime
    runtime.engine.dispose()
    dispose_all()


@pytest.fixture(scope="module")
def signed_in(console: Runtime) -> Iterator[dict[Role, tuple[Member, TestClient]]]:
    """A browser signed in as each role."""
    members = add_staff(console)
    app = create_app(console, start_worker=False)
    clients = {}
    for role, member in members.items():
        client = TestClient(app)
        client.__enter__()
        form = {"csrf": csrf(client, "/admin/login"), "email": member.email}
        answer = client.post(
            "/admin/login", data={**form, "password": member.password}, follow_redirects=False
        )
        assert answer.status_code == 303, answer.text
        clients[role] = (member, client)
    yield clients
    for _, client in clients.values():
        client.__exit__(None, None, None)


def csrf(client: TestClient, path: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', client.get(path).text)
    assert found, path
    return found.group(1)


def _fill(runtime: Runtime, path: str) -> str:
    """The path with real ids: a request awaiting approval, a letter, a subject, a token."""
    request_id = awaiting(runtime)
    with runtime.sessions.begin() as session:
        letter = list_outbox(session, limit=1)
        person = subjects.person(session, runtime.settings, "avery.quinn@example.com")
        token = session.scalars(select(ApiToken).where(ApiToken.name == Role.VIEWER)).first()
        values = {
            "request_id": request_id,
            "appeal_id": request_id,  # a request's appeal, by the request (none: not found)
            "message_id": str(letter[0].id if letter else 1),
            "subject_id": person.id,
            "delivery_id": "1",
            "doc_id": "none",  # no such document: allowed roles get 404, others 403
            "case_id": "none",  # the same for a case
            "task_id": "none",  # the same for a manual task
            "number": "1",  # a notice version (none published: allowed roles get 404)
            "prefix": token.prefix if token else "none",
            "staff_id": str(_target(session)),
        }
    return path.format(**values, action="{action}")


def _target(session: Session) -> int:
    """A staff member the staff actions may change without touching the signed-in ones."""
    email = "matrix.target@lumen.example"
    found = session.scalar(select(StaffUser.id).where(StaffUser.email == email))
    if found is None:
        target = create_staff(
            session,
            email=email,
            name="Target",
            password=secrets.token_urlsafe(18),
            role="analyst",
            actor=system_actor("test"),
        )
        found = target.id
    return found


def _a_letter(runtime: Runtime) -> None:
    address = f"letter.{secrets.token_hex(4)}@example.com"  # one each: mail limits per address
    data = RequestIn.model_validate(
        {"request_type": "access", "email": address, "declaration_signature": "L"}
    )
    with runtime.sessions.begin() as session:
        submit(session, runtime.settings, data, client=None)


def _send(client: TestClient, method: str, url: str, form: dict[str, str] | None) -> Any:
    if method == "GET":
        return client.get(url, follow_redirects=False)
    data = {"csrf": csrf(client, "/admin/login"), **(form or {})}
    return client.post(url, data=data, follow_redirects=False)


ROLE_ROUTES = sorted(k for k, (needs, _) in CONSOLE.items() if needs)
ACTION_ROUTE = ("POST", "/admin/requests/{request_id}/{action}")


@pytest.mark.parametrize(("method", "path"), ROLE_ROUTES, ids=lambda v: str(v))
def test_each_role_may_open_and_post_only_what_its_permissions_allow(
    console: Runtime,
    signed_in: dict[Role, tuple[Member, TestClient]],
    method: str,
    path: str,
) -> None:
    needs, form = CONSOLE[(method, path)]
    assert needs is not None
    _a_letter(console)
    actions = ACTIONS if (method, path) == ACTION_ROUTE else {"": form}
    for action, action_form in actions.items():
        target = _fill(console, path).format(action=action)  # a fresh request for each
        request_id = target.split("/")[3] if target.startswith("/admin/requests/") else None
        for role in ROLES:  # least first: refusals come before any allowed call changes things
            _, client = signed_in[role]
            before = audit_count(console)
            answer = _send(client, method, target, action_form)
            if allowed(role, needs):
                assert answer.status_code != 403 and not answer.headers.get(
                    "location", ""
                ).startswith("/admin/login"), (role, target, answer.status_code)
                continue
            assert answer.status_code == 403, (role, target, answer.status_code)
            assert "Not allowed for your role" in answer.text
            assert audit_count(console) == before, f"{role} was refused but {target} recorded"
            if request_id:
                assert status_of(console, request_id) == "awaiting_approval"


def test_own_account_pages_open_for_every_role(
    signed_in: dict[Role, tuple[Member, TestClient]],
) -> None:
    for role in ROLES:
        assert signed_in[role][1].get("/admin/account").status_code == 200


def test_a_viewer_sees_queues_and_counts_but_no_identities_nor_links_it_cannot_use(
    console: Runtime, signed_in: dict[Role, tuple[Member, TestClient]]
) -> None:
    request_id = awaiting(console)
    viewer = signed_in[Role.VIEWER][1]
    page = viewer.get(f"/admin/requests/{request_id}").text
    assert "avery.quinn@example.com" not in page and "Identities given" not in page
    assert "Approve and run" not in page and "/deny" not in page
    nav = viewer.get("/admin").text
    assert 'href="/admin/outbox"' not in nav and 'href="/admin/tokens"' not in nav
    consent = viewer.get("/admin/consent").text
    assert "Find a person" not in consent and "Newest choices" not in consent
    analyst = signed_in[Role.ANALYST][1].get(f"/admin/requests/{request_id}").text
    assert "avery.quinn@example.com" in analyst and "Approve and run" not in analyst
    admin = signed_in[Role.ADMIN][1].get("/admin").text
    assert 'href="/admin/outbox"' in admin and 'href="/admin/tokens"' in admin


def _reads(runtime: Runtime, subject_id: str) -> list[AuditEvent]:
    with runtime.sessions() as session:
        stmt = select(AuditEvent).where(
            AuditEvent.action == "staff.read_personal", AuditEvent.subject_id == subject_id
        )
        return list(session.scalars(stmt))


def test_reading_a_requests_identities_on_the_console_is_an_audit_event(
    console: Runtime, signed_in: dict[Role, tuple[Member, TestClient]]
) -> None:
    request_id = awaiting(console)
    signed_in[Role.VIEWER][1].get(f"/admin/requests/{request_id}")
    assert _reads(console, request_id) == []  # the viewer saw no identities
    member, analyst = signed_in[Role.ANALYST]
    assert analyst.get(f"/admin/requests/{request_id}").status_code == 200
    [event] = _reads(console, request_id)
    assert event.actor == member.email and event.detail == {"what": "identities"}
    assert "avery" not in str(event.detail).lower()  # who read what, never the data


def test_reading_a_persons_choices_on_the_console_is_an_audit_event(
    console: Runtime, signed_in: dict[Role, tuple[Member, TestClient]]
) -> None:
    with console.sessions.begin() as session:
        subject_id = subjects.person(session, console.settings, "jordan.lee@example.com").id
    member, analyst = signed_in[Role.ANALYST]
    assert analyst.get(f"/admin/consent/subjects/{subject_id}").status_code == 200
    [event] = _reads(console, subject_id)
    assert event.actor == member.email and event.subject_type == "consent_subject"


def test_an_admin_lists_and_revokes_tokens_and_a_revoked_token_stops_working(
    console: Runtime, signed_in: dict[Role, tuple[Member, TestClient]]
) -> None:
    analyst, admin = signed_in[Role.ANALYST][0], signed_in[Role.ADMIN][1]
    page = admin.get("/admin/tokens").text
    prefix = analyst.token.split("_")[1]
    assert f"rf_{prefix}_" in page and analyst.email in page and analyst.token not in page
    with TestClient(create_app(console, start_worker=False)) as api:
        assert api.get("/api/v1/outbox", headers=analyst.auth).status_code == 200
        _send(admin, "POST", f"/admin/tokens/{prefix}/revoke", {})
        assert api.get("/api/v1/outbox", headers=analyst.auth).status_code == 401
    assert "revoked" in admin.get("/admin/tokens").text
