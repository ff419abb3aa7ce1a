"""The consent API: record, read and check choices; bulk suppression; chain; marketing mail."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from rightful.consent import sequencer
from rightful.consent.models import ConsentEvent, ConsentSubject
from rightful.core.db import unit_of_work
from rightful.messaging.service import deliver_pending
from rightful.security.permissions import system_actor
from rightful.web.app import create_app
from tests.support.app import App, make_settings, prepare
from tests.support.services import SmtpTestServer

PERSON = "Robin.Vale@Example.com"


def sha(address: str) -> str:
    return hashlib.sha256(address.strip().lower().encode()).hexdigest()


def events_count(app: App) -> int:
    with app.runtime.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(ConsentEvent)) or 0)


def record(app: App, **body: Any) -> Any:
    return app.client.post("/api/v1/consent/events", json=body, headers=app.auth)


def test_recorded_choices_drive_state_check_and_history(rightful_app: App) -> None:
    choices = [
        {"purpose": "marketing.offers", "channel": "email", "state": "given"},
        {"purpose": "sale_share", "channel": "all", "state": "withdrawn"},
    ]
    made = record(rightful_app, email=PERSON, choices=choices, jurisdiction="US-CA")
    assert made.status_code == 201, made.text
    events = made.json()["events"]
    assert [e["purpose"] for e in events] == ["marketing.offers", "sale_share"]
    assert events[0]["actor"] == "officer@lumen.example" and events[0]["interface"] == "api"
    assert events[0]["position"] is None  # in the signed log once the sequencer has run

    check = rightful_app.client.post(
        "/api/v1/consent/check",
        json={"email": PERSON, "purpose": "marketing.offers", "channel": "email"},
        headers=rightful_app.auth,
    ).json()
    assert check == {"allowed": True, "state": "given", "reason": "consent given"}
    sale = rightful_app.client.post(
        "/api/v1/consent/check",
        json={"email": "robin.vale@example.com", "purpose": "sale_share", "channel": "all"},
        headers=rightful_app.auth,
    ).json()
    assert sale["allowed"] is False

    state = rightful_app.client.post(
        "/api/v1/consent/state", json={"email": PERSON}, headers=rightful_app.auth
    ).json()
    by_key = {(s["purpose"], s["channel"]): s for s in state["states"]}
    assert by_key[("marketing.offers", "email")]["explicit"] is True
    assert by_key[("marketing.newsletter", "email")] | {"since": None} == {
        "purpose": "marketing.newsletter",
        "channel": "email",
        "state": "withdrawn",
        "explicit": False,
        "since": None,
        "event_uid": None,
    }

    # Withdrawing all marketing e-mail overrides the topic.
    record(
        rightful_app,
        subject_id=state["subject_id"],
        choices=[{"purpose": "marketing", "channel": "email", "state": "withdrawn"}],
    )
    check = rightful_app.client.post(
        "/api/v1/consent/check",
        json={"email": PERSON, "purpose": "marketing.offers", "channel": "email"},
        headers=rightful_app.auth,
    ).json()
    assert check["allowed"] is False
    history = rightful_app.client.post(
        "/api/v1/consent/history", json={"email": PERSON}, headers=rightful_app.auth
    ).json()
    assert [e["purpose"] for e in history["events"]] == [
        "marketing",
        "sale_share",
        "marketing.offers",
    ]


def test_bad_choices_get_clear_errors_and_change_nothing(rightful_app: App) -> None:
    cases = [
        ({"purpose": "marketing.spam", "channel": "email", "state": "given"}, "no purpose"),
        ({"purpose": "marketing.newsletter", "channel": "sms", "state": "given"}, "not offered"),
        (
            {"purpose": "cookies.strictly_necessary", "channel": "web", "state": "withdrawn"},
            "cannot",
        ),
    ]
    for bad, words in cases:
        good = {"purpose": "sale_share", "channel": "all", "state": "withdrawn"}
        answer = record(rightful_app, email=PERSON, choices=[good, bad])
        assert answer.status_code == 422, answer.text
        assert answer.headers["content-type"] == "application/problem+json"
        assert words in answer.json()["detail"]
    both = record(rightful_app, email=PERSON, device_id="a" * 20, choices=[good])
    assert both.status_code == 422 and "exactly one" in both.text
    bad_device = record(rightful_app, device_id="../etc", choices=[good])
    assert bad_device.status_code == 422
    assert events_count(rightful_app) == 0
    with rightful_app.runtime.sessions() as session:  # not even the person was kept
        assert session.scalar(select(func.count()).select_from(ConsentSubject)) == 0
    unauthenticated = rightful_app.client.post("/api/v1/consent/check", json={})
    assert unauthenticated.status_code == 401


def test_the_ledger_reports_an_edited_event(rightful_app: App) -> None:
    for state in ("withdrawn", "given", "withdrawn"):
        record(
            rightful_app,
            email=PERSON,
            choices=[{"purpose": "sale_share", "channel": "all", "state": state}],
        )
    verify = rightful_app.client.get("/api/v1/consent/verify", headers=rightful_app.auth)
    assert verify.json()["intact"] is True and verify.json()["first_broken_event"] is None
    sequencer.run_once(rightful_app.runtime.sessions, rightful_app.runtime.settings)
    with unit_of_work(rightful_app.runtime.sessions) as session:
        second = session.scalars(select(ConsentEvent.id).order_by(ConsentEvent.id)).all()[1]
        session.execute(update(ConsentEvent).where(ConsentEvent.id == second).values(state="x"))
    verify = rightful_app.client.get("/api/v1/consent/verify", headers=rightful_app.auth)
    assert verify.json()["intact"] is False and verify.json()["first_broken_event"] == second
    assert verify.json()["problem"] == "edited" and verify.json()["broken_at"] == second
    assert verify.json()["position"] == 1


def test_bulk_check_by_address_by_hash_and_as_text(rightful_app: App) -> None:
    record(
        rightful_app,
        email=PERSON,
        choices=[{"purpose": "marketing.offers", "channel": "email", "state": "withdrawn"}],
    )
    record(
        rightful_app,
        email="gone@example.com",
        choices=[{"purpose": "marketing", "channel": "email", "state": "withdrawn"}],
    )
    api, auth = rightful_app.client, rightful_app.auth
    everyone = [PERSON, "gone@example.com", "fresh@example.com"]
    offers = api.post(
        "/api/v1/suppressions/bulk",
        json={"emails": everyone, "topic": "marketing.offers"},
        headers=auth,
    ).json()
    assert offers == {"checked": 3, "suppressed": [PERSON, "gone@example.com"]}
    global_only = api.post("/api/v1/suppressions/bulk", json={"emails": everyone}, headers=auth)
    assert global_only.json()["suppressed"] == ["gone@example.com"]

    hashes = [sha(a) for a in everyone]
    by_hash = api.post(
        "/api/v1/suppressions/bulk",
        json={"sha256": hashes, "topic": "marketing.offers"},
        headers=auth,
    ).json()
    assert by_hash["suppressed"] == hashes[:2]
    as_text = api.post(
        "/api/v1/suppressions/bulk?topic=marketing.offers",
        content="\n".join(h.upper() for h in hashes) + "\n",
        headers={**auth, "Content-Type": "text/plain"},
    )
    assert as_text.text.split() == hashes[:2]
    assert as_text.headers["x-checked"] == "3"

    malformed = api.post(
        "/api/v1/suppressions/bulk",
        content=f"{hashes[0]}\nnot-a-hash\n",
        headers={**auth, "Content-Type": "text/plain"},
    )
    assert malformed.status_code == 422 and "line/item 2" in malformed.json()["detail"]
    unknown = api.post(
        "/api/v1/suppressions/bulk", json={"emails": everyone, "topic": "nope"}, headers=auth
    )
    assert unknown.status_code == 422
    neither = api.post("/api/v1/suppressions/bulk", json={"topic": "nope"}, headers=auth)
    assert neither.status_code == 422 and "emails" in neither.json()["detail"]

    export = api.get("/api/v1/suppressions/export", headers=auth)
    lines = export.text.strip().splitlines()
    assert lines[0] == "email_sha256,topic,reason,since"
    assert {tuple(line.split(",")[:3]) for line in lines[1:]} == {
        (sha(PERSON), "marketing.offers", "api"),
        (sha("gone@example.com"), "*", "api"),
    }
    assert "example.com" not in export.text


def test_marketing_mail_carries_one_click_unsubscribe_that_works(
    tmp_path: Path, smtp_server: SmtpTestServer
) -> None:
    runtime = prepare(make_settings(tmp_path, smtp_url=smtp_server.url))
    from rightful.security.service import create_api_token, create_staff

    with unit_of_work(runtime.sessions) as session:
        staff = create_staff(
            session,
            email="m@lumen.example",
            name="M",
            password="x" * 16,
            actor=system_actor("test"),
        )
        token = create_api_token(session, staff=staff, name="t", actor=system_actor("test"))
    auth = {"Authorization": f"Bearer {token}"}
    with TestClient(create_app(runtime, start_worker=False)) as client:
        client.post(
            "/api/v1/consent/events",
            json={
                "email": PERSON,
                "choices": [{"purpose": "marketing.offers", "channel": "email", "state": "given"}],
            },
            headers=auth,
        )
        letter = {
            "to": PERSON,
            "topic": "marketing.offers",
            "subject": "Spring sale: 20% off lamps",
            "text": "Our spring sale starts today.",
        }
        sent = client.post("/api/v1/marketing/messages", json=letter, headers=auth)
        assert sent.status_code == 202 and sent.json()["status"] == "queued"
        with runtime.sessions() as session:
            assert deliver_pending(session, runtime.settings) == 1
        mail = smtp_server.wait_for(PERSON, subject_contains="Spring sale")
        assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        link = mail["List-Unsubscribe"]
        assert link.startswith("<http://testserver/unsubscribe/") and link.endswith(">")
        assert "robin" not in link.lower() and "example" not in link
        body = mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]
        assert link.strip("<>") in body

        # Exactly as a mailbox provider does it: a POST with the one-click body, no cookies.
        client.cookies.clear()
        one_click = client.post(
            link.strip("<>").removeprefix("http://testserver"),
            content="List-Unsubscribe=One-Click",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert one_click.status_code == 200, one_click.text
        again = client.post("/api/v1/marketing/messages", json=letter, headers=auth)
        assert again.json() == {"status": "suppressed", "message_id": None}
    runtime.engine.dispose()


def test_unsubscribe_headers_refuse_what_is_not_a_topic(rightful_app: App) -> None:
    api, auth = rightful_app.client, rightful_app.auth
    ok = api.post(
        "/api/v1/consent/unsubscribe-headers",
        json={"email": PERSON, "topic": "marketing.newsletter"},
        headers=auth,
    ).json()
    assert ok["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    for topic in ("sale_share", "marketing.unknown"):
        bad = api.post(
            "/api/v1/consent/unsubscribe-headers",
            json={"email": PERSON, "topic": topic},
            headers=auth,
        )
        assert bad.status_code == 422, topic
