"""Double opt-in: a sign-up from the company's form counts only once confirmed from its e-mail."""

from __future__ import annotations

import time
from typing import Any

from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from rightful.consent import subjects, subscriptions
from rightful.consent.catalog import Channel
from tests.support.app import App, link_from
from tests.support.consent_pages import (
    CASEY,
    ask_for_link,
    csrf_on,
    events,
    letters,
    suppressed_topics,
)


def sign_up(app: App, **body: Any) -> Any:
    payload = {"email": CASEY, "topics": ["marketing.offers"], "source": "footer-form", **body}
    return app.client.post("/api/v1/consent/subscriptions", json=payload, headers=app.auth)


def confirmation_url(app: App) -> str:
    [letter] = letters(app, CASEY, "subscription_confirm")[-1:]
    assert "Offers and sales" in letter.text
    return link_from(letter.text, "/subscribe/confirm/")


def allowed(app: App, topic: str) -> bool:
    body = {"email": CASEY, "purpose": topic, "channel": "email"}
    answer = app.client.post("/api/v1/consent/check", json=body, headers=app.auth)
    return bool(answer.json()["allowed"])


def test_a_sign_up_counts_only_once_confirmed(rightful_app: App) -> None:
    answer = sign_up(rightful_app)
    assert answer.status_code == 202 and answer.json() == {"status": "confirmation_sent"}
    assert events(rightful_app) == [] and not allowed(rightful_app, "marketing.offers")
    url = confirmation_url(rightful_app)
    assert "casey" not in url  # a pseudonymous token, no address
    page = rightful_app.client.get(url)
    assert page.status_code == 200 and "Confirm your subscription" in page.text
    assert "Offers and sales" in page.text and events(rightful_app) == []  # opening: nothing

    done = rightful_app.client.post(url, data={"csrf": csrf_on(page.text)})
    assert done.status_code == 200 and "You are subscribed" in done.text
    [event] = events(rightful_app)
    assert (event.purpose, event.channel, event.state) == ("marketing.offers", "email", "given")
    assert event.interface == "double_opt_in" and event.proof["source"] == "footer-form"
    assert event.proof["requested_at"] <= event.at.isoformat()
    assert allowed(rightful_app, "marketing.offers")
    again = rightful_app.client.post(url, data={"csrf": csrf_on(page.text)})
    assert again.status_code == 400 and "already confirmed" in again.text
    assert len(events(rightful_app)) == 1  # twice: no change


def test_confirming_after_a_list_removal_resumes_only_the_confirmed_topic(
    rightful_app: App,
) -> None:
    give = {"purpose": "marketing.newsletter", "channel": "email", "state": "given"}
    rightful_app.client.post(
        "/api/v1/consent/events",
        json={"email": CASEY, "choices": [give]},
        headers=rightful_app.auth,
    )
    ask_for_link(rightful_app.client, CASEY, "/list-removal")
    removal = link_from(letters(rightful_app, CASEY, "list_removal")[0].text, "/list-removal/")
    rightful_app.client.post(removal, data={"csrf": csrf_on(rightful_app.client.get(removal).text)})
    assert suppressed_topics(rightful_app) == {"*"}

    sign_up(rightful_app)
    url = confirmation_url(rightful_app)
    rightful_app.client.post(url, data={"csrf": csrf_on(rightful_app.client.get(url).text)})
    assert allowed(rightful_app, "marketing.offers")
    assert not allowed(rightful_app, "marketing.newsletter")  # not revived by this sign-up
    assert "*" not in suppressed_topics(rightful_app)
    assert not allowed(rightful_app, "marketing.product_news")
    sms = {"email": CASEY, "purpose": "marketing.offers", "channel": Channel.SMS.value}
    texts = rightful_app.client.post("/api/v1/consent/check", json=sms, headers=rightful_app.auth)
    assert texts.json()["allowed"] is False  # e-mail only: texts stay stopped


def test_bad_sign_ups_are_clear_errors_and_send_nothing(rightful_app: App) -> None:
    for body, field in [
        ({"topics": ["nope"]}, "purpose"),
        ({"topics": ["marketing"]}, "topics"),
        ({"topics": ["cookies.performance"]}, ""),
        ({"topics": []}, "topics"),
        ({"source": "Footer form!"}, "source"),
        ({"email": "casey@"}, "email"),
    ]:
        answer = sign_up(rightful_app, **body)
        assert answer.status_code == 422, (body, answer.text)
        assert answer.headers["content-type"].startswith("application/problem+json")
        assert field in answer.text
    assert letters(rightful_app, CASEY, "subscription_confirm") == []


def test_an_address_gets_at_most_three_confirmations_an_hour(rightful_app: App) -> None:
    answers = {sign_up(rightful_app).status_code for _ in range(5)}
    assert answers == {202}  # the same answer every time
    assert len(letters(rightful_app, CASEY, "subscription_confirm")) == 3


def test_an_old_or_forged_link_records_nothing(rightful_app: App) -> None:
    sign_up(rightful_app)
    url = confirmation_url(rightful_app)
    forged = rightful_app.client.get(url[:-3] + "abc")
    assert forged.status_code == 400 and "This link does not work" in forged.text
    with rightful_app.runtime.sessions() as session:
        person = subjects.find_person(session, rightful_app.runtime.settings, CASEY)
        assert person is not None

    class WeekOld(TimestampSigner):
        def get_timestamp(self) -> int:
            return super().get_timestamp() - subscriptions.CONFIRM_SECONDS - 60

    # Signed as subscriptions.request signs, a week and a minute ago.
    signer = URLSafeTimedSerializer(
        rightful_app.runtime.settings.secret_key, salt="rightful-link:subscribe", signer=WeekOld
    )
    old = signer.dumps(f"{person.id}|marketing.offers|{int(time.time()) - 700_000}|footer-form")
    page = rightful_app.client.get(f"/subscribe/confirm/{old}")
    assert page.status_code == 400 and "This link has expired" in page.text
    token = csrf_on(rightful_app.client.get(url).text)  # a form token from a good page
    posted = rightful_app.client.post(f"/subscribe/confirm/{old}", data={"csrf": token})
    assert posted.status_code == 400
    assert events(rightful_app) == []
