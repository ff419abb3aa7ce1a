"""The console's consent pages: overview, finding a person, recording a choice by post."""

from __future__ import annotations

from sqlalchemy import select

from rightful.consent.models import ConsentEvent
from rightful.core.db import unit_of_work
from tests.support.app import App
from tests.web.test_admin import csrf, sign_in


def test_staff_find_a_person_and_record_their_letter(rightful_app: App) -> None:
    app = rightful_app
    app.client.post(
        "/api/v1/consent/events",
        json={
            "email": "kim@example.com",
            "choices": [{"purpose": "marketing.offers", "channel": "email", "state": "given"}],
        },
        headers=app.auth,
    )
    assert app.client.get("/admin/consent", follow_redirects=False).status_code == 303
    sign_in(app)
    home = app.client.get("/admin/consent")
    assert "Intact" in home.text and "Offers and sales" in home.text
    assert "kim@example.com" not in home.text  # subjects appear by pseudonymous id

    found = app.client.post(
        "/admin/consent/lookup",
        data={"csrf": csrf(app, "/admin/consent"), "email": "Kim@Example.com"},
        follow_redirects=False,
    )
    assert found.status_code == 303
    subject_url = found.headers["location"]
    assert "kim" not in subject_url

    token = csrf(app, subject_url)
    missing_note = app.client.post(
        f"{subject_url}/record",
        data={"csrf": token, "choice": "marketing|post", "state": "withdrawn", "proof": ""},
    )
    assert missing_note.status_code == 422 and "how the person told you" in missing_note.text
    recorded = app.client.post(
        f"{subject_url}/record",
        data={"csrf": token, "choice": "marketing|post", "state": "withdrawn", "proof": "Letter"},
    )
    assert recorded.status_code == 200 and "officer@lumen.example" in recorded.text
    with app.runtime.sessions() as session:
        event = session.scalars(select(ConsentEvent).order_by(ConsentEvent.id.desc())).first()
    assert event is not None
    assert (event.purpose, event.channel, event.interface) == ("marketing", "post", "staff")
    assert event.proof == {"note": "Letter"} and event.actor == "officer@lumen.example"

    nobody = app.client.post(
        "/admin/consent/lookup",
        data={"csrf": csrf(app, "/admin/consent"), "email": "nobody@example.com"},
    )
    assert "No choices on record" in nobody.text


def test_console_and_api_show_propagation_and_retry_an_overdue_change(rightful_app: App) -> None:
    from datetime import timedelta

    from rightful.consent.models import ConsentDelivery
    from rightful.core.clock import utcnow

    app = rightful_app
    app.client.post(
        "/api/v1/consent/events",
        json={
            "email": "kim@example.com",
            "choices": [{"purpose": "marketing.offers", "channel": "email", "state": "withdrawn"}],
        },
        headers=app.auth,
    )
    with unit_of_work(app.runtime.sessions) as session:
        delivery = session.scalars(select(ConsentDelivery)).one()
        past = utcnow() - timedelta(days=30)
        delivery.due_at = delivery.target_at = past
        delivery.next_attempt_at = utcnow() + timedelta(days=1)
        delivery_id = delivery.id
    summary = app.client.get("/api/v1/consent/deliveries", headers=app.auth).json()
    assert [d["id"] for d in summary["overdue"]] == [delivery_id]
    assert "kim" not in str(summary)

    sign_in(app)
    page = app.client.get("/admin/consent")
    assert "Other systems" in page.text and "Retry now" in page.text
    retried = app.client.post(
        f"/admin/consent/deliveries/{delivery_id}/retry",
        data={"csrf": csrf(app, "/admin/consent")},
        follow_redirects=False,
    )
    assert retried.status_code == 303
    with app.runtime.sessions() as session:
        again = session.get(ConsentDelivery, delivery_id)
        assert again is not None and again.next_attempt_at <= utcnow()
    gone = app.client.post("/api/v1/consent/deliveries/999999/retry", headers=app.auth)
    assert gone.status_code == 404
