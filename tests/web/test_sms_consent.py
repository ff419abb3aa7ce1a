"""Consent for texts: STOP and START replies, numbers linked to people, checks by number."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from rightful.consent import ledger
from rightful.consent.models import ConsentEvent, ConsentSubject
from tests.support.app import App

NUMBER = "(415) 555-0134"
SAME_NUMBER = "+1 415 555 0134"
PERSON = "robin.vale@example.com"


def post(app: App, path: str, body: dict[str, Any]) -> Any:
    return app.client.post(f"/api/v1{path}", json=body, headers=app.auth)


def reply(app: App, text: str, phone: str = NUMBER) -> dict[str, Any]:
    answer = post(app, "/consent/sms-replies", {"phone": phone, "text": text})
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def allowed(app: App, channel: str = "sms", purpose: str = "marketing.offers", **who: str) -> bool:
    body = {**who, "purpose": purpose, "channel": channel}
    answer = post(app, "/consent/check", body)
    assert answer.status_code == 200, answer.text
    return bool(answer.json()["allowed"])


def event_count(app: App) -> int:
    with app.runtime.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(ConsentEvent)) or 0)


def give_offers_by_text(app: App) -> None:
    choice = {"purpose": "marketing.offers", "channel": "sms", "state": "given"}
    assert post(app, "/consent/events", {"email": PERSON, "choices": [choice]}).status_code == 201


def test_stop_from_a_number_ends_marketing_texts_to_it(rightful_app: App) -> None:
    answer = reply(rightful_app, " Stop. ")
    assert answer["keyword"] == "stop" and "no more marketing texts" in answer["reply"]
    [event] = answer["events"]
    assert (event["purpose"], event["channel"], event["state"]) == ("marketing", "sms", "withdrawn")
    assert event["interface"] == "sms_reply" and event["proof"] == {"keyword": "stop"}
    assert not allowed(rightful_app, phone=SAME_NUMBER)  # any way of writing the number
    assert reply(rightful_app, "STOP")["events"] == []  # a second STOP changes nothing
    with rightful_app.runtime.sessions() as session:
        number = session.scalars(select(ConsentSubject).where(ConsentSubject.kind == "phone")).one()
        # Sealed and hashed, never stored plain (ten digits in a row would not come by chance).
        assert number.sealed_phone and "4155550134" not in number.sealed_phone
        assert "4155550134" not in number.lookup_hash
        assert ledger.verify(session).intact


def test_a_linked_number_answers_for_its_person_both_ways(rightful_app: App) -> None:
    give_offers_by_text(rightful_app)
    linked = post(rightful_app, "/consent/phone-links", {"phone": NUMBER, "email": PERSON})
    assert linked.status_code == 200, linked.text
    assert allowed(rightful_app, phone=NUMBER)  # the person's yes counts for their number
    reply(rightful_app, "UNSUBSCRIBE")
    assert not allowed(rightful_app, phone=NUMBER)
    assert not allowed(rightful_app, email=PERSON)  # recorded for the person too
    assert allowed(rightful_app, channel="email", purpose="marketing", email=PERSON)  # texts only
    started = reply(rightful_app, "start")
    assert started["keyword"] == "start" and len(started["events"]) == 2
    assert allowed(rightful_app, phone=NUMBER) and allowed(rightful_app, email=PERSON)


def test_help_and_other_replies_change_nothing(rightful_app: App) -> None:
    before = event_count(rightful_app)
    helped = reply(rightful_app, "HELP")
    assert helped["events"] == [] and "privacy@lumen.example" in helped["reply"]
    chat = reply(rightful_app, "Thanks, see you Saturday")
    assert chat["keyword"] == "other" and chat["reply"] is None
    assert event_count(rightful_app) == before


def test_a_list_of_numbers_is_checked_before_a_send(rightful_app: App) -> None:
    reply(rightful_app, "stop", phone="415-555-0101")
    give_offers_by_text(rightful_app)
    post(rightful_app, "/consent/phone-links", {"phone": "415-555-0102", "email": PERSON})
    withdraw = {"purpose": "marketing.offers", "channel": "sms", "state": "withdrawn"}
    post(rightful_app, "/consent/events", {"email": PERSON, "choices": [withdraw]})
    numbers = ["415-555-0101", "415-555-0102", "415-555-0103"]
    everything = post(rightful_app, "/suppressions/phones", {"phones": numbers})
    assert everything.json() == {"checked": 3, "suppressed": ["415-555-0101"]}
    offers = post(
        rightful_app, "/suppressions/phones", {"phones": numbers, "topic": "marketing.offers"}
    )
    assert offers.json()["suppressed"] == ["415-555-0101", "415-555-0102"]


def test_bad_numbers_and_subjects_are_clear_errors_and_change_nothing(rightful_app: App) -> None:
    before = event_count(rightful_app)
    bad_list = post(rightful_app, "/suppressions/phones", {"phones": ["415-555-0101", "12"]})
    assert bad_list.status_code == 422
    assert bad_list.headers["content-type"].startswith("application/problem+json")
    assert "phones[1]" in bad_list.text
    bad_reply = post(
        rightful_app, "/consent/sms-replies", {"phone": "not a number", "text": "STOP"}
    )
    assert bad_reply.status_code == 422 and "phone" in bad_reply.text
    both = post(
        rightful_app,
        "/consent/check",
        {"email": PERSON, "phone": NUMBER, "purpose": "marketing", "channel": "sms"},
    )
    assert both.status_code == 422 and "exactly one" in both.text
    unknown_topic = post(rightful_app, "/suppressions/phones", {"phones": [], "topic": "nope"})
    assert unknown_topic.status_code == 422
    assert event_count(rightful_app) == before


def test_staff_see_a_numbers_choices_without_the_number(rightful_app: App) -> None:
    from tests.web.test_admin import sign_in

    subject_id = reply(rightful_app, "STOP")["subject_id"]
    sign_in(rightful_app)
    page = rightful_app.client.get(f"/admin/consent/subjects/{subject_id}")
    assert page.status_code == 200 and "Choices of a phone number" in page.text
    assert "sms reply" in page.text or "sms_reply" in page.text
    for written in ("4155550134", "555-0134", "555 0134", "(415)"):
        assert written not in page.text


def test_staff_find_a_number_as_they_find_an_address(rightful_app: App) -> None:
    from tests.web.test_admin import csrf, sign_in

    subject_id = reply(rightful_app, "STOP")["subject_id"]
    sign_in(rightful_app)
    token = csrf(rightful_app, "/admin/consent")
    found = rightful_app.client.post(
        "/admin/consent/lookup",
        data={"csrf": token, "email": "415.555.0134"},
        follow_redirects=False,
    )
    assert found.status_code == 303
    assert found.headers["location"] == f"/admin/consent/subjects/{subject_id}"
    unknown = rightful_app.client.post(
        "/admin/consent/lookup", data={"csrf": token, "email": "415-555-0199"}
    )
    assert unknown.status_code == 200 and "Nobody with that address or number" in unknown.text
    bad = rightful_app.client.post("/admin/consent/lookup", data={"csrf": token, "email": "12"})
    assert bad.status_code == 422


def test_a_stop_sent_before_the_number_was_linked_counts_for_the_person(rightful_app: App) -> None:
    give_offers_by_text(rightful_app)
    reply(rightful_app, "STOP")  # the number is not known to belong to anyone yet
    assert allowed(rightful_app, channel="sms", purpose="marketing.offers", email=PERSON)
    linked = post(rightful_app, "/consent/phone-links", {"phone": NUMBER, "email": PERSON})
    assert linked.status_code == 200, linked.text
    assert not allowed(rightful_app, channel="sms", purpose="marketing.offers", email=PERSON)
