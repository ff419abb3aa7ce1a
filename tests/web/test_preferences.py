"""The preference center, through HTTP as people use it.

Links come from the outbox, as they would from an inbox; forms are submitted as a browser
submits them (read from the page, then changed), and outcomes are read from the ledger and
the suppression list.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from rightful.consent import assertion, links, subjects
from rightful.core import clock
from rightful.core.config import Settings
from rightful.core.db import unit_of_work
from rightful.web.app import create_app
from rightful.worker.loop import run_once
from tests.support.app import App, link_from
from tests.support.consent_pages import (
    CASEY,
    ask_for_link,
    csrf_on,
    events,
    form_on,
    letters,
    open_preferences,
    save,
    subject_count,
    suppressed_topics,
)

NEWSLETTER = "marketing.newsletter:email"
OFFERS_SMS = "marketing.offers:sms"
SALE_SHARE = "sale_share:all"
JWT_SECRET = "a-shared-secret-between-the-store-and-rightful-0123456789"


@dataclasses.dataclass(frozen=True)
class Site:
    """Rightful as the company's site reaches it: settings that share the site's JWT secret."""

    client: TestClient
    settings: Settings


@pytest.fixture
def site_app(rightful_app: App) -> Iterator[Site]:
    """The same Rightful and store, configured to accept the company site's assertions."""
    settings = rightful_app.runtime.settings.model_copy(
        update={"preference_jwt_secret": JWT_SECRET}
    )
    runtime = dataclasses.replace(rightful_app.runtime, settings=settings)
    with TestClient(create_app(runtime, start_worker=False)) as client:
        yield Site(client, settings)


@contextmanager
def frozen(**delta: float) -> Iterator[None]:
    """Run the block as if the clock were moved by this much."""
    clock.freeze(clock.utcnow() + timedelta(**delta))
    try:
        yield
    finally:
        clock.freeze(None)


# --- the preference center -----------------------------------------------------------------------


def test_the_start_page_asks_only_for_an_address(rightful_app: App) -> None:
    page = rightful_app.client.get("/preferences").text
    assert "Manage your marketing and privacy choices" in page
    form = page.split('action="/preferences/link"', 1)[1].split("</form>", 1)[0]
    inputs = re.findall(r'<input[^>]*name="([^"]+)"', form)
    assert inputs == ["csrf", "email"]


def test_the_magic_link_opens_the_choices_and_leaves_the_address_bar(rightful_app: App) -> None:
    sent = ask_for_link(rightful_app.client, CASEY)
    assert "We have sent a link to that address" in sent
    page = open_preferences(rightful_app)
    assert "Your marketing and privacy choices" in page
    assert "c•••@example.com" in page and CASEY not in page
    assert "Do Not Sell or Share My Personal Information" in page


def test_opting_out_of_a_topic_is_recorded_and_suppresses_the_address(rightful_app: App) -> None:
    page = open_preferences(rightful_app)
    page = save(rightful_app, page, {NEWSLETTER: "given"})
    assert "Your choices are saved" in page and "The Lumen newsletter by e-mail: <strong>on" in page

    page = save(rightful_app, page, {NEWSLETTER: "withdrawn"})

    assert "The Lumen newsletter by e-mail: <strong>off" in page
    last = events(rightful_app)[-1]
    assert (last.purpose, last.channel, last.state) == (
        "marketing.newsletter",
        "email",
        "withdrawn",
    )
    assert last.interface == "preference_center"
    assert last.proof == {"method": "preference center form", "signed_in_by": "e-mailed link"}
    assert suppressed_topics(rightful_app) == {"marketing.newsletter"}


def test_turning_back_on_a_withdrawn_choice_waits_for_a_second_step(rightful_app: App) -> None:
    page = open_preferences(rightful_app)
    page = save(rightful_app, page, {NEWSLETTER: "given"})
    page = save(rightful_app, page, {NEWSLETTER: "withdrawn"})
    before = len(events(rightful_app))

    confirm = save(rightful_app, page, {NEWSLETTER: "given", OFFERS_SMS: "given"})

    assert "Turn these back on?" in confirm
    assert "<li>The Lumen newsletter by e-mail</li>" in confirm
    assert "Offers and sales by text message: <strong>on" in confirm  # never withdrawn: saved
    assert len(events(rightful_app)) == before + 1
    assert suppressed_topics(rightful_app) == {"marketing.newsletter"}

    done = rightful_app.client.post("/preferences/manage/confirm", data=form_on(confirm, "confirm"))

    assert "Your choices are saved" in done.text
    last = events(rightful_app)[-1]
    assert (last.purpose, last.state) == ("marketing.newsletter", "given")
    assert suppressed_topics(rightful_app) == set()


def test_keeping_them_off_records_nothing(rightful_app: App) -> None:
    page = open_preferences(rightful_app)
    page = save(rightful_app, page, {SALE_SHARE: "withdrawn"})
    before = len(events(rightful_app))

    confirm = save(rightful_app, page, {SALE_SHARE: "given"})
    assert '<a class="button secondary" href="/preferences/manage">No, keep them off</a>' in confirm
    page = rightful_app.client.get("/preferences/manage").text

    assert len(events(rightful_app)) == before
    assert re.search(r'name="sale_share:all" value="withdrawn" checked', page)


def test_do_not_sell_or_share_is_one_step_like_any_first_choice(rightful_app: App) -> None:
    page = open_preferences(rightful_app)
    answers = re.findall(r'<label class="choice"><input type="radio" name="sale_share:all"', page)
    assert len(answers) == 2  # both answers the same control, side by side

    page = save(rightful_app, page, {SALE_SHARE: "withdrawn"})

    assert "Selling or sharing my personal information: <strong>off" in page
    assert [(e.purpose, e.state) for e in events(rightful_app)] == [("sale_share", "withdrawn")]


def test_an_unknown_purpose_is_refused_and_nothing_is_recorded(rightful_app: App) -> None:
    page = open_preferences(rightful_app)
    fields = form_on(page)
    fields["shown"].append("marketing.lottery:email")
    fields["marketing.lottery:email"] = ["given"]
    fields[NEWSLETTER] = ["given"]

    answer = rightful_app.client.post("/preferences/manage", data=fields)

    assert answer.status_code == 422
    assert "Nothing was changed" in answer.text
    assert "There is no choice called &#39;marketing.lottery:email&#39;" in answer.text
    assert re.search(rf'name="{re.escape(NEWSLETTER)}" value="given" checked', answer.text)
    assert events(rightful_app) == []


def test_a_changed_form_without_its_token_is_refused(rightful_app: App) -> None:
    page = open_preferences(rightful_app)
    fields = form_on(page) | {"csrf": ["forged"], NEWSLETTER: ["given"]}
    answer = rightful_app.client.post("/preferences/manage", data=fields)
    assert answer.status_code == 400 and "form has expired" in answer.text
    assert events(rightful_app) == []


def test_without_an_opened_link_the_page_asks_for_one(rightful_app: App) -> None:
    answer = rightful_app.client.get("/preferences/manage")
    assert answer.status_code == 401
    assert "Enter your e-mail address and we will send you a new link" in answer.text


def test_the_session_lapses_after_an_hour(rightful_app: App) -> None:
    open_preferences(rightful_app)
    clock.freeze(clock.utcnow() + timedelta(minutes=61))
    try:
        assert rightful_app.client.get("/preferences/manage").status_code == 401
    finally:
        clock.freeze(None)


def test_signing_out_forgets_the_person(rightful_app: App) -> None:
    page = open_preferences(rightful_app)
    answer = rightful_app.client.post("/preferences/sign-out", data={"csrf": csrf_on(page)})
    assert "You have signed out" in answer.text
    assert rightful_app.client.get("/preferences/manage").status_code == 401


def test_a_forged_link_shows_an_error_and_a_way_to_ask_again(rightful_app: App) -> None:
    ask_for_link(rightful_app.client, CASEY)
    url = link_from(letters(rightful_app, CASEY, "preferences_link")[0].text, "/preferences/open/")
    answer = rightful_app.client.get(url[:-2] + ("AA" if not url.endswith("AA") else "BB"))
    assert answer.status_code == 400
    assert "This link is not valid" in answer.text
    assert 'href="/preferences">Get a new link to your choices</a>' in answer.text
    assert rightful_app.client.get("/preferences/manage").status_code == 401


def test_an_expired_link_is_refused(rightful_app: App) -> None:
    with unit_of_work(rightful_app.runtime.sessions) as session:
        person_id = subjects.person(session, rightful_app.runtime.settings, CASEY).id

    class DayOld(TimestampSigner):
        def get_timestamp(self) -> int:
            return super().get_timestamp() - links.PREFERENCES_SECONDS - 60

    # Signed as links.preferences_token signs, a day and a minute ago.
    signer = URLSafeTimedSerializer(
        rightful_app.runtime.settings.secret_key,
        salt="rightful-link:preferences",
        signer=DayOld,
    )
    answer = rightful_app.client.get(f"/preferences/open/{signer.dumps(person_id)}")
    assert answer.status_code == 400 and "This link has expired" in answer.text
    assert rightful_app.client.get("/preferences/manage").status_code == 401


def test_the_gpc_signal_on_the_page_records_the_opt_out(rightful_app: App) -> None:
    open_preferences(rightful_app)
    page = rightful_app.client.get("/preferences/manage", headers={"Sec-GPC": "1"}).text
    assert "Opt-out request honored" in page
    recorded = {(e.purpose, e.state, e.interface) for e in events(rightful_app)}
    assert recorded == {
        ("sale_share", "withdrawn", "gpc"),
        ("targeted_advertising", "withdrawn", "gpc"),
    }
    assert re.search(r'name="sale_share:all" value="withdrawn" checked', page)


def test_unsubscribe_from_all_marketing_is_one_click(rightful_app: App) -> None:
    page = open_preferences(rightful_app)
    stop = form_on(page, "stop-all")
    answer = rightful_app.client.post("/preferences/unsubscribe-all", data=stop)
    assert "Your choices are saved" in answer.text
    assert {(e.purpose, e.channel) for e in events(rightful_app)} == {
        ("marketing", c) for c in ("email", "sms", "phone", "post")
    }
    assert suppressed_topics(rightful_app) == {"*"}
    assert "All marketing is off for: E-mail, Text message, Phone call, Post" in answer.text


def test_the_receipt_is_an_iso_27560_consent_record(rightful_app: App) -> None:
    page = open_preferences(rightful_app)
    save(rightful_app, page, {NEWSLETTER: "given", SALE_SHARE: "withdrawn"})

    answer = rightful_app.client.get("/preferences/receipt")

    assert answer.headers["content-disposition"].startswith("attachment; filename=")
    record = answer.json()
    for key in (
        "schema_version",
        "record_id",
        "pii_principal_id",
        "controller",
        "notice",
        "jurisdiction",
        "collection_method",
        "purposes",
        "events",
        "proof",
    ):
        assert record[key], key
    assert record["controller"]["name"] == rightful_app.runtime.settings.company_name
    assert record["collection_method"]["interface"] == "preference_center"
    sale = next(p for p in record["purposes"] if p["purpose_id"] == "sale_share")
    assert (sale["lawful_basis"], sale["consent_status"], sale["consent_type"]) == (
        "consent",
        "withdrawn",
        "explicit",
    )
    assert [e["event_id"] for e in record["events"]] == [e.uid for e in events(rightful_app)]
    first = record["events"][0]  # not yet in the signed log: the receipt says where to look
    assert first["log"]["status"] == "pending"
    assert first["log"]["proof_url"].endswith(f"/consent/receipts/proof/{first['event_id']}")
    assert CASEY not in json.dumps(record)


def test_the_receipt_can_be_emailed_to_the_person(rightful_app: App) -> None:
    page = open_preferences(rightful_app)
    answer = rightful_app.client.post("/preferences/receipt/email", data={"csrf": csrf_on(page)})
    assert "We have e-mailed you a record of your choices" in answer.text
    [letter] = letters(rightful_app, CASEY, "consent_receipt")
    assert (
        "Your choices:" in letter.text
        and "Selling or sharing my personal information" in letter.text
    )


# --- signed assertions from the company's site ---------------------------------------------------


def test_an_account_holder_arrives_from_the_site_with_a_signed_assertion(
    site_app: Site, rightful_app: App
) -> None:
    signed = assertion.issue(site_app.settings, CASEY)
    answer = site_app.client.post(
        "/preferences/sso", data={"assertion": signed}, follow_redirects=False
    )
    assert answer.status_code == 303 and answer.headers["location"] == "/preferences/manage"
    assert signed not in answer.headers["location"]
    page = site_app.client.get("/preferences/manage").text
    assert "c•••@example.com" in page
    fields = form_on(page)
    fields[NEWSLETTER] = ["given"]
    site_app.client.post("/preferences/manage", data=fields)
    assert events(rightful_app)[-1].proof["signed_in_by"] == "site assertion"


@pytest.mark.parametrize("kind", ["forged", "expired"])
def test_a_bad_assertion_is_refused_and_nothing_is_recorded(
    site_app: Site, rightful_app: App, kind: str
) -> None:
    if kind == "forged":
        wrong = site_app.settings.model_copy(update={"preference_jwt_secret": "x" * 48})
        signed = assertion.issue(wrong, CASEY)
    else:
        signed = assertion.issue(site_app.settings, CASEY, lifetime=-120)

    answer = site_app.client.post("/preferences/sso", data={"assertion": signed})

    assert answer.status_code == 400
    assert "sign-in" in answer.text
    assert site_app.client.get("/preferences/manage").status_code == 401
    assert subject_count(rightful_app) == 0


def test_the_sites_phone_number_claim_links_the_number_to_the_person(
    site_app: Site, rightful_app: App
) -> None:
    signed = assertion.issue(site_app.settings, CASEY, phone_number="+1 415 555 0166")
    site_app.client.post("/preferences/sso", data={"assertion": signed}, follow_redirects=False)
    stop = {"phone": "(415) 555-0166", "text": "STOP"}
    answer = rightful_app.client.post(
        "/api/v1/consent/sms-replies", json=stop, headers=rightful_app.auth
    )
    assert len(answer.json()["events"]) == 2  # the number, and Casey through the link
    assert {(e.purpose, e.channel, e.interface) for e in events(rightful_app)} == {
        ("marketing", "sms", "sms_reply")
    }
    badly_held = assertion.issue(site_app.settings, CASEY, phone_number="12")
    still = site_app.client.post(
        "/preferences/sso", data={"assertion": badly_held}, follow_redirects=False
    )
    assert still.status_code == 303  # a malformed number does not keep the person out


# --- the truth from elsewhere: the marketing store, the banner ----------------------------------

AVERY = "avery.quinn@example.com"  # the demo's marketing store: product_news subscribed
PRODUCT_NEWS = "marketing.product_news:email"
ADS = "targeted_advertising:all"
BROWSER = "browser-of-casey-0123456789"
GIVEN = {"state": "given"}


def reject_all() -> dict[str, object]:
    """What consent.js posts when a visitor in California clicks Reject all."""
    optional = ("performance", "functional", "targeting", "sale_share")
    return {
        "device_id": BROWSER,
        "jurisdiction": "US-CA",
        "action": "reject_all",
        "choices": dict.fromkeys(optional, False),
    }


def ticked(page: str) -> set[str]:
    """The choices the page shows on."""
    fields = form_on(page)
    return {name for name, values in fields.items() if "given" in values}


def test_a_subscription_held_by_the_marketing_store_shows_ticked_with_its_source(
    rightful_app: App,
) -> None:
    run_once(rightful_app.runtime)  # the worker's first pass reads the newly added store
    page = open_preferences(rightful_app, AVERY)
    assert PRODUCT_NEWS in ticked(page)
    assert "From our records in Marketing e-mail subscriptions" in page
    assert NEWSLETTER not in ticked(page)  # nothing held, nothing chosen: the default


def test_reject_all_in_the_banner_shows_in_the_preference_center_once_signed_in_there(
    site_app: Site, rightful_app: App
) -> None:
    rejected = site_app.client.post("/consent/events", content=json.dumps(reject_all()))
    assert rejected.status_code == 200, rejected.text
    site_app.client.cookies.set("rf_consent_id", BROWSER)  # the shop's own cookie, same domain
    signed = assertion.issue(site_app.settings, CASEY)
    site_app.client.post("/preferences/sso", data={"assertion": signed}, follow_redirects=False)
    page = site_app.client.get("/preferences/manage").text
    assert SALE_SHARE not in ticked(page) and ADS not in ticked(page)
    assert "Chosen in the cookie banner on a browser you use" in page
    check = rightful_app.client.post(
        "/api/v1/consent/check",
        json={"email": CASEY, "purpose": "sale_share", "channel": "all"},
        headers=rightful_app.auth,
    ).json()
    assert check["allowed"] is False  # checks by the person honour it too
    carried = [e for e in events(rightful_app) if e.interface == "banner"]
    assert {(e.purpose, e.state) for e in carried} == {
        ("sale_share", "withdrawn"),
        ("targeted_advertising", "withdrawn"),
    }
    assert all(e.proof["linked_by"] == "site assertion" for e in carried)


def test_the_sites_device_id_claim_links_the_browser_it_vouches_for(
    site_app: Site, rightful_app: App
) -> None:
    site_app.client.post("/consent/events", content=json.dumps(reject_all()))
    signed = assertion.issue(site_app.settings, CASEY, device_id=BROWSER)
    site_app.client.post("/preferences/sso", data={"assertion": signed}, follow_redirects=False)
    page = site_app.client.get("/preferences/manage").text
    assert SALE_SHARE not in ticked(page)


def test_the_persons_own_later_yes_is_not_undone_by_an_older_banner_opt_out(
    site_app: Site, rightful_app: App
) -> None:
    with frozen(hours=-2):
        site_app.client.post("/consent/events", content=json.dumps(reject_all()))
    rightful_app.client.post(  # the person says yes since, where they are known
        "/api/v1/consent/events",
        json={"email": CASEY, "choices": [{"purpose": "sale_share", "channel": "all", **GIVEN}]},
        headers=rightful_app.auth,
    )
    signed = assertion.issue(site_app.settings, CASEY, device_id=BROWSER)
    site_app.client.post("/preferences/sso", data={"assertion": signed}, follow_redirects=False)
    page = site_app.client.get("/preferences/manage").text
    assert SALE_SHARE in ticked(page)  # their own later choice stands
    assert ADS not in ticked(page)  # where they had said nothing, the browser's opt-out counts


def test_the_emailed_link_opened_in_the_browser_that_rejected_all_shows_it(
    rightful_app: App,
) -> None:
    rightful_app.client.post("/consent/events", content=json.dumps(reject_all()))
    rightful_app.client.cookies.set("rf_consent_id", BROWSER)
    page = open_preferences(rightful_app)
    assert SALE_SHARE not in ticked(page) and ADS not in ticked(page)
    assert {e.proof["linked_by"] for e in events(rightful_app)} == {"e-mailed link"}


def test_a_stop_from_a_number_before_the_site_vouched_for_it_counts_for_the_person(
    site_app: Site, rightful_app: App
) -> None:
    stop = {"phone": "(415) 555-0166", "text": "STOP"}
    rightful_app.client.post("/api/v1/consent/sms-replies", json=stop, headers=rightful_app.auth)
    signed = assertion.issue(site_app.settings, CASEY, phone_number="+1 415 555 0166")
    site_app.client.post("/preferences/sso", data={"assertion": signed}, follow_redirects=False)
    page = site_app.client.get("/preferences/manage").text
    assert "marketing:sms" not in ticked(page)
    assert "Your reply to a text" in page
