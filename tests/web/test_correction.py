"""Correction: named, verified without the detail being corrected, reviewed, applied, recorded."""

from __future__ import annotations

from sqlalchemy import create_engine, text

from rightful.worker.loop import run_once
from tests.support.app import AVERY, App, latest_code
from tests.web.test_api import submit

CORRECTION = {
    "request_type": "correct",
    "declaration_signature": None,
    "correction_item": "phone_number",
    "correction_value": "(415) 555-0199",
    "correction_evidence": "I changed my number in March.",
}


def stored_phone(app: App) -> str:
    engine = create_engine(f"sqlite:///{app.runtime.settings.data_dir}/estate/storefront.db")
    with engine.connect() as conn:
        phone = conn.execute(text("SELECT phone FROM customers WHERE id = 1")).scalar()
    engine.dispose()
    return str(phone)


def verify(app: App, rid: str) -> dict[str, object]:
    r = app.client.post(
        f"/api/v1/rights-requests/{rid}/verify",
        headers=app.auth,
        json={"code": latest_code(app.runtime, rid)},
    )
    return r.json()  # type: ignore[no-any-return]


def test_a_correction_is_reviewed_then_applied_in_the_store(rightful_app: App) -> None:
    c, auth = rightful_app.client, rightful_app.auth
    rid = str(submit(rightful_app, **CORRECTION)["id"])
    assert verify(rightful_app, rid)["status"] == "awaiting_approval"
    review = c.get(f"/api/v1/rights-requests/{rid}/correction-preview", headers=auth).json()
    assert [(r["collection"], r["field"], r["current"], r["corrected"]) for r in review] == [
        ("customers", "phone", "+14155550134", "+14155550199")
    ]
    assert stored_phone(rightful_app) == "+14155550134"  # reviewing changes nothing
    c.post(f"/api/v1/rights-requests/{rid}/approve", headers=auth)
    assert run_once(rightful_app.runtime) == 1
    assert stored_phone(rightful_app) == "+14155550199"
    assert c.get(f"/api/v1/rights-requests/{rid}", headers=auth).json()["status"] == "completed"
    assert c.get(f"/api/v1/rights-requests/{rid}/correction-preview", headers=auth).json() == []
    outbox = c.get("/api/v1/outbox", headers=auth).json()
    assert any("We have corrected your phone number" in m["text"] for m in outbox)


def test_the_detail_being_corrected_does_not_verify_the_person(rightful_app: App) -> None:
    # Only the e-mail code and the phone on file: the phone is what is being corrected.
    rid = str(submit(rightful_app, **CORRECTION, name=None, postal_code=None)["id"])
    assert verify(rightful_app, rid)["status"] == "denied"


def test_a_correction_must_say_what_and_to_what(rightful_app: App) -> None:
    r = rightful_app.client.post(
        "/api/v1/rights-requests",
        headers=rightful_app.auth,
        json={"request_type": "correct", "email": AVERY["email"]},
    )
    assert r.status_code == 422
    assert {e["field"] for e in r.json()["errors"]} == {"correction_item", "correction_value"}


def test_a_bad_corrected_value_is_named(rightful_app: App) -> None:
    r = rightful_app.client.post(
        "/api/v1/rights-requests",
        headers=rightful_app.auth,
        json={
            **CORRECTION,
            "email": AVERY["email"],
            "correction_item": "date_of_birth",
            "correction_value": "14 March",
        },
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "correction_value"


def test_the_form_asks_what_to_correct(rightful_app: App) -> None:
    page = rightful_app.client.get("/requests/new?type=correct").text
    assert 'name="correction_item"' in page and "My date of birth" in page
