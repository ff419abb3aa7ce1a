"""The REST API: tokens, problem+json errors, and the same actions as the console."""

from __future__ import annotations

import io
import json
import re
import zipfile

from sqlalchemy import func, select

from rightful.rights.models import RightsRequest
from rightful.security.permissions import system_actor
from rightful.worker.loop import run_once
from tests.support.app import AVERY, App, latest_code

ACCESS = {
    "request_type": "access",
    "declaration_signature": "Avery Quinn",
    "channel": "api",
    "date_range": "all",
    **AVERY,
}


def count_requests(app: App) -> int:
    with app.runtime.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(RightsRequest)) or 0)


def submit(app: App, **overrides: object) -> dict[str, object]:
    r = app.client.post("/api/v1/rights-requests", headers=app.auth, json={**ACCESS, **overrides})
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


def test_requests_without_a_token_are_refused_as_problem_json(rightful_app: App) -> None:
    r = rightful_app.client.get("/api/v1/rights-requests")
    assert r.status_code == 401
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["title"] == "Sign-in required" and "Bearer" in r.json()["detail"]
    r = rightful_app.client.get(
        "/api/v1/rights-requests", headers={"Authorization": "Bearer rf_x_y"}
    )
    assert r.status_code == 401


def test_full_access_request_through_the_api(rightful_app: App) -> None:
    c, auth = rightful_app.client, rightful_app.auth
    created = submit(rightful_app)
    assert created["status"] == "verifying" and created["identities"] is None
    rid = str(created["id"])
    r = c.post(
        f"/api/v1/rights-requests/{rid}/verify",
        headers=auth,
        json={"code": latest_code(rightful_app.runtime, rid)},
    )
    assert (
        r.json()["status"] == "awaiting_approval" and r.json()["verification_level"] == 4
    )  # e-mail code + phone, name, ZIP
    assert (
        c.post(f"/api/v1/rights-requests/{rid}/approve", headers=auth).json()["status"]
        == "executing"
    )
    assert run_once(rightful_app.runtime) == 1
    assert c.get(f"/api/v1/rights-requests/{rid}", headers=auth).json()["status"] == "completed"
    package = c.get(f"/api/v1/rights-requests/{rid}/package", headers=auth)
    with zipfile.ZipFile(io.BytesIO(package.content)) as zf:
        data = json.loads(zf.read("data.json"))
    assert data["data"]["Online store"]["customers"][0]["email"] == AVERY["email"]


def test_unknown_request_type_is_a_422_naming_the_field(rightful_app: App) -> None:
    r = rightful_app.client.post(
        "/api/v1/rights-requests",
        headers=rightful_app.auth,
        json={**ACCESS, "request_type": "teleport"},
    )
    assert r.status_code == 422
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["errors"][0]["field"] == "request_type"
    assert count_requests(rightful_app) == 0


def test_malformed_identities_are_refused_and_nothing_is_created(rightful_app: App) -> None:
    r = rightful_app.client.post(
        "/api/v1/rights-requests",
        headers=rightful_app.auth,
        json={**ACCESS, "email": "not-an-address", "phone_number": "12"},
    )
    assert r.status_code == 422
    fields = {e["field"] for e in r.json()["errors"]}
    assert "email" in fields
    assert count_requests(rightful_app) == 0


def test_access_without_signed_declaration_is_refused(rightful_app: App) -> None:
    r = rightful_app.client.post(
        "/api/v1/rights-requests",
        headers=rightful_app.auth,
        json={**ACCESS, "declaration_signature": None},
    )
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "declaration_signature"


def test_oversized_body_is_refused_with_413(rightful_app: App) -> None:
    r = rightful_app.client.post(
        "/api/v1/rights-requests", headers=rightful_app.auth, json={**ACCESS, "name": "x" * 100_000}
    )
    assert r.status_code == 413
    assert r.json()["title"] == "Too large"
    assert count_requests(rightful_app) == 0


def test_wrong_code_is_refused_and_counted_then_locked(rightful_app: App) -> None:
    rid = str(submit(rightful_app)["id"])
    real = latest_code(rightful_app.runtime, rid)
    wrong = "000000" if real != "000000" else "111111"
    for _ in range(5):
        r = rightful_app.client.post(
            f"/api/v1/rights-requests/{rid}/verify", headers=rightful_app.auth, json={"code": wrong}
        )
        assert r.status_code == 400
    # After five wrong tries even the right code no longer works.
    r = rightful_app.client.post(
        f"/api/v1/rights-requests/{rid}/verify", headers=rightful_app.auth, json={"code": real}
    )
    assert r.status_code == 400
    show = rightful_app.client.get(f"/api/v1/rights-requests/{rid}", headers=rightful_app.auth)
    assert show.json()["status"] == "verifying"


def test_unknown_person_is_denied_with_the_same_words_as_a_mismatch(rightful_app: App) -> None:
    reasons = []
    for identities in (
        {"email": "nobody@example.com", "phone_number": "415-555-0100", "name": "No Body"},
        {**AVERY, "phone_number": "415-555-0100", "name": "Someone Else", "postal_code": "10001"},
    ):
        rid = str(
            submit(
                rightful_app,
                **{**ACCESS, **identities, "postal_code": None}
                if "postal_code" not in identities
                else {**ACCESS, **identities},
            )["id"]
        )
        r = rightful_app.client.post(
            f"/api/v1/rights-requests/{rid}/verify",
            headers=rightful_app.auth,
            json={"code": latest_code(rightful_app.runtime, rid)},
        )
        assert r.json()["status"] == "denied"
        reasons.append(r.json()["denial_reason"])
    assert reasons[0] == reasons[1]


def test_an_opt_out_request_needs_no_verification_nor_approval_and_lands_in_the_ledger(
    rightful_app: App,
) -> None:
    from rightful.rights.execution import run_request

    created = submit(rightful_app, request_type="opt_out_sale", declaration_signature=None)
    assert created["status"] == "executing"
    runtime = rightful_app.runtime
    assert run_request(runtime.sessions, runtime.settings, str(created["id"])) == "completed"
    check = rightful_app.client.post(
        "/api/v1/consent/check",
        json={"email": "avery.quinn@example.com", "purpose": "sale_share", "channel": "all"},
        headers=rightful_app.auth,
    ).json()
    assert check == {"allowed": False, "state": "withdrawn", "reason": "consent withdrawn"}
    history = rightful_app.client.post(
        "/api/v1/consent/history",
        json={"email": "avery.quinn@example.com"},
        headers=rightful_app.auth,
    ).json()["events"]
    assert {(e["purpose"], e["interface"]) for e in history} == {
        ("sale_share", "rights_request"),
        ("targeted_advertising", "rights_request"),
    }
    assert history[0]["proof"] == {"request": created["reference"]}


def test_deny_and_extend_need_a_real_reason_and_extend_only_once(rightful_app: App) -> None:
    c, auth = rightful_app.client, rightful_app.auth
    rid = str(submit(rightful_app)["id"])
    assert (
        c.post(
            f"/api/v1/rights-requests/{rid}/extend", headers=auth, json={"reason": "short"}
        ).status_code
        == 422
    )
    first = c.post(
        f"/api/v1/rights-requests/{rid}/extend",
        headers=auth,
        json={"reason": "We are collecting records from an archived system."},
    )
    assert first.status_code == 200 and first.json()["extended"] is True
    again = c.post(
        f"/api/v1/rights-requests/{rid}/extend",
        headers=auth,
        json={"reason": "We are collecting records from an archived system."},
    )
    assert again.status_code == 409 and "one extension" in again.json()["detail"]
    denied = c.post(
        f"/api/v1/rights-requests/{rid}/deny",
        headers=auth,
        json={"reason": "The request was withdrawn by the consumer by phone."},
    )
    assert denied.json()["status"] == "denied"
    assert c.post(f"/api/v1/rights-requests/{rid}/approve", headers=auth).status_code == 409


def test_missing_request_is_404_problem(rightful_app: App) -> None:
    r = rightful_app.client.get("/api/v1/rights-requests/nope", headers=rightful_app.auth)
    assert r.status_code == 404 and r.json()["type"].endswith("/not_found")


def test_openapi_is_served(rightful_app: App) -> None:
    spec = rightful_app.client.get("/api/v1/openapi.json").json()
    assert "/api/v1/rights-requests" in spec["paths"]
    # The reference documents the API, not the pages people fill in.
    assert not [p for p in spec["paths"] if p.startswith(("/admin", "/requests", "/preferences"))]


def test_the_api_docs_page_loads_only_scripts_and_styles_served_by_rightful(
    rightful_app: App,
) -> None:
    page = rightful_app.client.get("/api/docs")
    assert page.status_code == 200
    assert "unsafe-inline" not in page.headers["content-security-policy"]
    scripts = re.findall(r"<script\b([^>]*)>", page.text)
    assert scripts and all("src=" in attrs for attrs in scripts)  # no inline script
    assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert not [a for a in assets if not a.startswith("/")]  # no CDN, no other host
    for asset in assets:
        assert rightful_app.client.get(asset).status_code == 200, asset


def test_inventory_round_trips_through_the_api_without_secrets(rightful_app: App) -> None:
    c, auth = rightful_app.client, rightful_app.auth
    exported = c.get("/api/v1/inventory/export", headers=auth).text
    assert "sqlite" not in exported and "fides_key: storefront" in exported
    r = c.post("/api/v1/inventory", headers=auth, json=[{"name": "all.yml", "content": exported}])
    assert r.status_code == 200, r.text
    assert sorted(r.json()["datasets"]) == ["engagement", "storefront", "support_desk"]
    shown = c.get("/api/v1/inventory", headers=auth).json()
    assert all(s["connection_configured"] for s in shown["systems"])


def test_invalid_inventory_is_a_problem_listing_each_error(rightful_app: App) -> None:
    bad = (
        "dataset:\n  - fides_key: x\n    collections:\n      - name: c\n        fields:\n"
        "          - name: f\n            data_categories: [user.nonsense]\n"
    )
    r = rightful_app.client.post(
        "/api/v1/inventory", headers=rightful_app.auth, json=[{"name": "x.yml", "content": bad}]
    )
    assert r.status_code == 422
    assert {
        "file": "x.yml",
        "dataset": "x",
        "collection": "c",
        "field": "f",
        "message": "unknown data category 'user.nonsense'",
    } in r.json()["errors"]


def test_an_expired_code_is_refused(rightful_app: App) -> None:
    from datetime import timedelta

    from rightful.core import clock

    rid = str(submit(rightful_app)["id"])
    code = latest_code(rightful_app.runtime, rid)
    clock.freeze(clock.utcnow() + timedelta(minutes=11))
    try:
        r = rightful_app.client.post(
            f"/api/v1/rights-requests/{rid}/verify", headers=rightful_app.auth, json={"code": code}
        )
    finally:
        clock.freeze(None)
    assert r.status_code == 400 and "expired" in r.json()["detail"]


def test_an_expired_download_link_is_refused(rightful_app: App) -> None:
    from datetime import timedelta

    from rightful.core import clock
    from rightful.rights.packaging import download_url
    from tests.support.app import access_package

    rid, _ = access_package(rightful_app.runtime)
    path = download_url(rightful_app.runtime.settings, rid).removeprefix("http://testserver")
    assert rightful_app.client.get(path).status_code == 200
    clock.freeze(clock.utcnow() + timedelta(days=8))
    try:
        r = rightful_app.client.get(path)
    finally:
        clock.freeze(None)
    assert r.status_code == 400 and "expired" in r.text


def test_codes_are_rate_limited_per_address_and_nothing_is_created(rightful_app: App) -> None:
    for _ in range(5):
        submit(rightful_app)
    r = rightful_app.client.post("/api/v1/rights-requests", headers=rightful_app.auth, json=ACCESS)
    assert r.status_code == 429 and "Too many codes" in r.json()["detail"]
    assert count_requests(rightful_app) == 5


def test_api_callers_are_not_limited_per_client_address(rightful_app: App) -> None:
    # The company's own site submits for many consumers from one server address.
    for i in range(21):
        submit(
            rightful_app,
            email=f"person{i}@example.com",
            phone_number=None,
            name=None,
            postal_code=None,
        )
    assert count_requests(rightful_app) == 21


def test_know_categories_is_answered_from_the_data_map(rightful_app: App) -> None:
    from tests.support.app import access_package

    _, data = access_package(rightful_app.runtime, request_type="know_categories")
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        report = json.loads(zf.read("data.json"))["categories_report"]
        page = zf.read("index.html").decode()
    assert "Contact Data" in report["categories"]
    assert "Directly from you, when you create an account or place an order" in report["sources"]
    third = next(r for r in report["recipients"] if r["label"] == "Third parties")
    assert third["shared"] is True and third["sold"] is False
    assert report["sold"] is False
    assert "We do not sell your personal information." in page


def test_erasure_preview_shows_what_would_be_deleted_masked_and_kept(rightful_app: App) -> None:
    c, auth = rightful_app.client, rightful_app.auth
    rid = str(submit(rightful_app, request_type="delete", declaration_signature=None)["id"])
    early = c.get(f"/api/v1/rights-requests/{rid}/erasure-preview", headers=auth)
    assert early.status_code == 409 and "not verified" in early.json()["detail"]
    c.post(
        f"/api/v1/rights-requests/{rid}/verify",
        headers=auth,
        json={"code": latest_code(rightful_app.runtime, rid)},
    )
    rows = c.get(f"/api/v1/rights-requests/{rid}/erasure-preview", headers=auth).json()
    by_name = {r["collection"]: r for r in rows}
    assert by_name["customers"]["action"] == "delete_rows" and by_name["customers"]["rows"] == 1
    assert by_name["orders"]["action"] == "retain_rows" and by_name["orders"]["rows"] == 3
    assert by_name["orders"]["masks"][0]["name"] == "customer_id"
    assert "seven years" in by_name["orders"]["legal_basis"]
    # A preview reads only: Avery is still there.
    from sqlalchemy import create_engine, text

    estate = create_engine(
        f"sqlite:///{rightful_app.runtime.settings.data_dir}/estate/storefront.db"
    )
    with estate.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM customers WHERE id = 1")).scalar() == 1
    estate.dispose()


def test_only_deletion_requests_have_an_erasure_preview(rightful_app: App) -> None:
    rid = str(submit(rightful_app)["id"])
    r = rightful_app.client.get(
        f"/api/v1/rights-requests/{rid}/erasure-preview", headers=rightful_app.auth
    )
    assert r.status_code == 409 and "Only deletion requests" in r.json()["detail"]


def test_a_second_person_must_approve_when_the_policy_asks(rightful_app: App) -> None:
    from rightful.core.db import unit_of_work
    from rightful.security.service import create_api_token, create_staff

    rightful_app.runtime.settings.second_approval_types = ["delete"]
    c, auth = rightful_app.client, rightful_app.auth
    rid = str(submit(rightful_app, request_type="delete", declaration_signature=None)["id"])
    c.post(
        f"/api/v1/rights-requests/{rid}/verify",
        headers=auth,
        json={"code": latest_code(rightful_app.runtime, rid)},
    )
    first = c.post(f"/api/v1/rights-requests/{rid}/approve", headers=auth)
    assert first.json()["status"] == "awaiting_approval"
    again = c.post(f"/api/v1/rights-requests/{rid}/approve", headers=auth)
    assert again.status_code == 409 and "second person" in again.json()["detail"]
    with unit_of_work(rightful_app.runtime.sessions) as session:
        second = create_staff(
            session,
            email="second@lumen.example",
            name="Sam Second",
            password="another long password",
            actor=system_actor("test"),
        )
        token = create_api_token(session, staff=second, name="second", actor=system_actor("test"))
    final = c.post(
        f"/api/v1/rights-requests/{rid}/approve", headers={"Authorization": f"Bearer {token}"}
    )
    assert final.json()["status"] == "executing"


def test_a_carried_out_erasure_can_no_longer_be_denied(rightful_app: App) -> None:
    c, auth = rightful_app.client, rightful_app.auth
    rid = str(submit(rightful_app, request_type="delete", declaration_signature=None)["id"])
    c.post(
        f"/api/v1/rights-requests/{rid}/verify",
        headers=auth,
        json={"code": latest_code(rightful_app.runtime, rid)},
    )
    c.post(f"/api/v1/rights-requests/{rid}/approve", headers=auth)
    run_once(rightful_app.runtime)  # erased; now waiting for business partners
    r = c.post(
        f"/api/v1/rights-requests/{rid}/deny",
        headers=auth,
        json={"reason": "Changed our mind about this deletion request."},
    )
    assert r.status_code == 409 and "already been carried out" in r.json()["detail"]


def test_the_suppression_list_can_be_checked_through_the_api(rightful_app: App) -> None:
    r = rightful_app.client.post(
        "/api/v1/suppressions/check",
        headers=rightful_app.auth,
        json={"emails": ["nobody@example.com"]},
    )
    assert r.status_code == 200 and r.json() == {"suppressed": []}
    bad = rightful_app.client.post(
        "/api/v1/suppressions/check", headers=rightful_app.auth, json={"emails": "not a list"}
    )
    assert bad.status_code == 422
