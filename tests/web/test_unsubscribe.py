"""One-click unsubscribe and list removal, through HTTP as people and mailbox providers use them.

Links come from the outbox, as they would from an inbox; forms are submitted as a browser
submits them (read from the page, then changed), and outcomes are read from the ledger and
the suppression list.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import func, select

from rightful.consent import catalog, links, service, subjects
from rightful.core.db import unit_of_work
from rightful.web.app import create_app
from tests.support.app import App, link_from
from tests.support.consent_pages import (
    CASEY,
    ask_for_link,
    csrf_on,
    events,
    letters,
    subject_count,
    suppressed_topics,
    unsubscribe_url,
)

NEWSLETTER = "marketing.newsletter:email"
OFFERS_SMS = "marketing.offers:sms"
SALE_SHARE = "sale_share:all"
JWT_SECRET = "a-shared-secret-between-the-store-and-rightful-0123456789"


# --- one-click unsubscribe -----------------------------------------------------------------------


def test_a_one_click_post_made_as_a_mailbox_provider_makes_it_suppresses_the_address(
    rightful_app: App,
) -> None:
    url = unsubscribe_url(rightful_app)
    provider = TestClient(rightful_app.client.app)  # its own client: no cookies, no page seen

    answer = provider.post(
        url,
        content=b"List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )

    assert answer.status_code == 200
    assert suppressed_topics(rightful_app) == {"marketing.offers"}
    [event] = events(rightful_app)
    assert (event.interface, event.proof) == (
        "unsubscribe_link",
        {"method": "RFC 8058 one-click POST"},
    )


def test_a_one_click_post_as_multipart_form_data_also_works(rightful_app: App) -> None:
    url = unsubscribe_url(rightful_app)
    boundary = "mailbox-provider-boundary"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="List-Unsubscribe"\r\n\r\n'
        f"One-Click\r\n--{boundary}--\r\n"
    ).encode()
    provider = TestClient(rightful_app.client.app)
    answer = provider.post(
        url, content=body, headers={"Content-Type": f"multipart/form-data; boundary={boundary}"}
    )
    assert answer.status_code == 200
    assert suppressed_topics(rightful_app) == {"marketing.offers"}


def test_repeated_one_click_posts_change_nothing_more(rightful_app: App) -> None:
    url = unsubscribe_url(rightful_app)
    provider = TestClient(rightful_app.client.app)
    for _ in range(3):
        provider.post(url, data={"List-Unsubscribe": "One-Click"})
    assert len(events(rightful_app)) == 1


def test_following_the_unsubscribe_link_changes_nothing(rightful_app: App) -> None:
    url = unsubscribe_url(rightful_app)
    page = rightful_app.client.get(url)
    assert page.status_code == 200
    assert "Unsubscribe from “Offers and sales”?" in page.text
    assert events(rightful_app) == [] and suppressed_topics(rightful_app) == set()


def test_pressing_unsubscribe_on_the_page_unsubscribes_once(rightful_app: App) -> None:
    url = unsubscribe_url(rightful_app)
    token = csrf_on(rightful_app.client.get(url).text)
    for _ in range(2):
        done = rightful_app.client.post(url, data={"csrf": token, "scope": "topic"})
        assert "We will send you no more e-mails about “Offers and sales”" in done.text
        assert 'href="/preferences"' in done.text
    assert len(events(rightful_app)) == 1
    assert events(rightful_app)[0].proof == {"method": "confirmation page"}


def test_the_page_also_offers_unsubscribing_from_all_marketing_email(rightful_app: App) -> None:
    url = unsubscribe_url(rightful_app)
    token = csrf_on(rightful_app.client.get(url).text)
    done = rightful_app.client.post(url, data={"csrf": token, "scope": "all"})
    assert "We will send no more marketing e-mail to your address" in done.text
    assert suppressed_topics(rightful_app) == {"*"}


def test_a_press_without_the_page_token_is_refused(rightful_app: App) -> None:
    url = unsubscribe_url(rightful_app)
    # Not the exact one-click body, so it must be a person's press, which needs the page's token.
    answer = rightful_app.client.post(url, data={"List-Unsubscribe": "One-Click", "scope": "all"})
    assert answer.status_code == 400 and "form has expired" in answer.text
    assert events(rightful_app) == []


def test_a_forged_unsubscribe_token_changes_nothing(rightful_app: App) -> None:
    url = unsubscribe_url(rightful_app)
    forged = url[:-2] + ("AA" if not url.endswith("AA") else "BB")
    provider = TestClient(rightful_app.client.app)

    one_click = provider.post(forged, data={"List-Unsubscribe": "One-Click"})
    page = rightful_app.client.get(forged)

    assert one_click.status_code == 400
    assert one_click.headers["content-type"] == "application/problem+json"
    assert page.status_code == 400 and "This link is not valid" in page.text
    assert events(rightful_app) == [] and suppressed_topics(rightful_app) == set()


def test_unsubscribe_links_last_for_months(rightful_app: App) -> None:
    assert links.UNSUBSCRIBE_SECONDS >= 365 * 86400
    with unit_of_work(rightful_app.runtime.sessions) as session:
        person_id = subjects.person(session, rightful_app.runtime.settings, CASEY).id

    class HalfYearOld(TimestampSigner):
        def get_timestamp(self) -> int:
            return super().get_timestamp() - 180 * 86400

    signer = URLSafeTimedSerializer(
        rightful_app.runtime.settings.secret_key,
        salt="rightful-link:unsubscribe",
        signer=HalfYearOld,
    )
    token = signer.dumps(f"{person_id}:marketing.offers")
    provider = TestClient(rightful_app.client.app)
    assert provider.post(f"/unsubscribe/{token}", data={"List-Unsubscribe": "One-Click"}).is_success
    assert suppressed_topics(rightful_app) == {"marketing.offers"}


# --- list removal --------------------------------------------------------------------------------


def test_list_removal_end_to_end(rightful_app: App) -> None:
    form = rightful_app.client.get("/list-removal").text
    asked = form.split('action="/list-removal"', 1)[1]  # the form, not the language switch
    assert re.findall(r'<input[^>]*name="([^"]+)"', asked) == ["csrf", "email"]
    sent = ask_for_link(rightful_app.client, CASEY, "/list-removal")
    assert "We have sent a link to that address" in sent

    url = link_from(letters(rightful_app, CASEY, "list_removal")[0].text, "/list-removal/confirm/")
    page = rightful_app.client.get(url).text
    assert "Remove this address from our marketing lists?" in page
    assert events(rightful_app) == []

    done = rightful_app.client.post(url, data={"csrf": csrf_on(page)}).text

    assert "This address will get no more marketing from us" in done
    assert "10 business days" in done
    assert suppressed_topics(rightful_app) == {"*"}
    assert {(e.channel, e.interface) for e in events(rightful_app)} == {
        (c, "list_removal") for c in ("email", "sms", "phone", "post")
    }


@pytest.mark.parametrize("path", ["/preferences", "/list-removal"])
def test_known_and_unknown_addresses_get_the_same_answer(rightful_app: App, path: str) -> None:
    with unit_of_work(rightful_app.runtime.sessions) as session:
        catalog.ensure_built_in(session)
        service.unsubscribe_headers(
            session, rightful_app.runtime.settings, email=CASEY, topic="marketing.offers"
        )
    known = ask_for_link(rightful_app.client, CASEY, path)
    unknown = ask_for_link(rightful_app.client, "nobody.here@example.net", path)
    assert known == unknown


@pytest.mark.parametrize("path", ["/preferences", "/list-removal"])
def test_a_wrong_address_is_shown_again_with_its_error(rightful_app: App, path: str) -> None:
    token = csrf_on(rightful_app.client.get(path).text)
    action = "/preferences/link" if path == "/preferences" else path
    answer = rightful_app.client.post(action, data={"csrf": token, "email": "casey.morgan@"})
    assert answer.status_code == 422
    assert "Enter a valid e-mail address" in answer.text
    assert 'value="casey.morgan@"' in answer.text and 'aria-invalid="true"' in answer.text
    assert letters(rightful_app, "casey.morgan@", "preferences_link") == []
    assert subject_count(rightful_app) == 0


def test_one_address_gets_at_most_three_links_an_hour_without_being_told(
    rightful_app: App,
) -> None:
    answers = {ask_for_link(rightful_app.client, CASEY) for _ in range(5)}
    assert len(answers) == 1  # the same page every time
    assert len(letters(rightful_app, CASEY, "preferences_link")) == 3


def test_one_connection_gets_at_most_ten_links_an_hour(rightful_app: App) -> None:
    for n in range(10):
        ask_for_link(rightful_app.client, f"person{n}@example.com")
    token = csrf_on(rightful_app.client.get("/preferences").text)
    answer = rightful_app.client.post(
        "/preferences/link", data={"csrf": token, "email": "person10@example.com"}
    )
    assert answer.status_code == 429 and "Too many links" in answer.text
    assert 'value="person10@example.com"' in answer.text


def test_the_limits_hold_across_server_processes(rightful_app: App) -> None:
    # Two app instances on one database stand for two server processes: one limit for both.
    other = TestClient(create_app(rightful_app.runtime, start_worker=False))
    with other:
        for client in (rightful_app.client, other, rightful_app.client, other):
            ask_for_link(client, CASEY)
    assert len(letters(rightful_app, CASEY, "preferences_link")) == 3


def test_old_link_counts_are_forgotten_by_housekeeping(rightful_app: App) -> None:
    from rightful.core import clock
    from rightful.messaging.limits import MailAsk
    from rightful.worker.loop import maintain

    for _ in range(3):
        ask_for_link(rightful_app.client, CASEY)
    clock.freeze(clock.utcnow() + timedelta(days=2))
    try:
        maintain(rightful_app.runtime)
        with rightful_app.runtime.sessions() as session:
            assert session.scalar(select(func.count()).select_from(MailAsk)) == 0
    finally:
        clock.freeze(None)
    ask_for_link(rightful_app.client, CASEY)  # an hour later, a new link goes out
    assert len(letters(rightful_app, CASEY, "preferences_link")) == 4
