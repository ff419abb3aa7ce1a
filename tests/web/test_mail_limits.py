"""No free e-mail cannon (issue 9, item 5): every call that e-mails an address someone typed is
limited per recipient and per client, in the database; a code has a cap over its request's life;
a forged X-Forwarded-For counts for nothing unless a trusted proxy sent it."""

from __future__ import annotations

import dataclasses
import secrets

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import select

from rightful.core.config import Settings
from rightful.messaging.service import list_outbox, open_letter
from rightful.rights.models import RightsRequest
from rightful.web.app import create_app
from rightful.worker.loop import run_once
from tests.support.app import App
from tests.support.consent_pages import CASEY, ask_for_link, csrf_on, letters, open_preferences
from tests.support.live import LiveRightful
from tests.web.test_consumer_words import SEND_NEW_CODE, submit, try_code, words
from tests.web.test_privacy_center import csrf, form

VICTIM = "victim@example.com"
OPT_OUT = {"request_type": "opt_out_sale", "declaration_signature": "", "email": VICTIM}


def mail_to(app: App, address: str) -> list[str]:
    """The templates of every e-mail queued to `address`."""
    with app.runtime.sessions() as session:
        opened = [open_letter(app.runtime.settings, m) for m in list_outbox(session, limit=1000)]
    return [m.template for m in opened if m.to == address]


# --- per recipient ------------------------------------------------------------------------------


def test_thirty_opt_out_posts_send_one_address_at_most_the_limit_of_mail(rightful_app: App) -> None:
    answers = [
        rightful_app.client.post(
            "/requests", data=form(rightful_app, **OPT_OUT), follow_redirects=False
        )
        for _ in range(30)
    ]
    run_once(rightful_app.runtime)  # the opt-outs are carried out and their e-mails written
    assert [a.status_code for a in answers] == [303] * 5 + [429] * 25
    assert "several requests for this e-mail address" in answers[5].text
    sent = mail_to(rightful_app, VICTIM)
    assert sorted(sent) == ["acknowledgement"] * 5 + ["opted_out"] * 5  # not 60


def test_the_api_is_limited_per_recipient_too(rightful_app: App) -> None:
    body = {"request_type": "opt_out_sale", "email": VICTIM}
    codes = [
        rightful_app.client.post(
            "/api/v1/rights-requests", json=body, headers=rightful_app.auth
        ).status_code
        for _ in range(6)
    ]
    assert codes == [201] * 5 + [429]
    assert mail_to(rightful_app, VICTIM).count("acknowledgement") == 5


def test_a_signed_in_person_gets_at_most_three_receipts_an_hour(rightful_app: App) -> None:
    page = open_preferences(rightful_app)
    answers = [
        rightful_app.client.post("/preferences/receipt/email", data={"csrf": csrf_on(page)}).text
        for _ in range(4)
    ]
    assert mail_to(rightful_app, CASEY).count("consent_receipt") == 3
    assert "We have e-mailed you a record" in answers[2]
    assert "Too many e-mails were sent to this address" in answers[3]


# --- per client ---------------------------------------------------------------------------------


def test_one_connection_files_at_most_twenty_opt_outs_an_hour(rightful_app: App) -> None:
    for n in range(20):
        answer = rightful_app.client.post(
            "/requests",
            data=form(rightful_app, **{**OPT_OUT, "email": f"p{n}@example.com"}),
            follow_redirects=False,
        )
        assert answer.status_code == 303
    last = rightful_app.client.post(
        "/requests", data=form(rightful_app, **{**OPT_OUT, "email": "p20@example.com"})
    )
    assert last.status_code == 429 and "from this connection" in last.text
    assert mail_to(rightful_app, "p20@example.com") == []


# --- a code's life ------------------------------------------------------------------------------


def request_status(app: App) -> str:
    with app.runtime.sessions() as session:
        return str(session.scalar(select(RightsRequest.status)))


def test_fifteen_wrong_tries_across_codes_close_the_request_for_good(rightful_app: App) -> None:
    location = submit(rightful_app)
    for _ in range(2):  # two locked codes, each followed by a new one
        for _ in range(5):
            try_code(rightful_app, location, "000000")
        rightful_app.client.post(f"{location}/resend", data={"csrf": csrf(rightful_app, location)})
    pages = [try_code(rightful_app, location, "000000") for _ in range(5)]
    assert "1 try left." in pages[3]
    page = words(rightful_app.client.get(location).text)
    assert "this request is closed: it has had 5 codes or 15 wrong tries" in page
    assert "Send a new request" in page and 'name="code"' not in page
    assert request_status(rightful_app) == "denied"
    r = rightful_app.client.post(f"{location}/resend", data={"csrf": csrf(rightful_app)})
    assert not SEND_NEW_CODE.search(r.text)
    assert len(mail_to(rightful_app, "avery.quinn@example.com")) == 3  # acknowledgement + 2 codes


def test_a_request_gets_at_most_five_codes_in_its_life(rightful_app: App) -> None:
    location = submit(rightful_app)
    for _ in range(4):
        r = rightful_app.client.post(
            f"{location}/resend", data={"csrf": csrf(rightful_app, location)}
        )
        assert "We sent a new code" in r.text
    r = rightful_app.client.post(f"{location}/resend", data={"csrf": csrf(rightful_app, location)})
    assert "this request is closed" in words(r.text) and "We sent a new code" not in r.text
    assert request_status(rightful_app) == "denied"
    assert mail_to(rightful_app, "avery.quinn@example.com").count("code") == 4


# --- who the client is --------------------------------------------------------------------------


def test_a_forged_forwarded_for_from_an_untrusted_peer_is_ignored(
    live_rightful: LiveRightful,
) -> None:
    # rightful serve's own uvicorn settings, reached from this machine as any local program can.
    with httpx.Client(base_url=live_rightful.base_url) as browser:
        answers = []
        for n in range(11):
            token = csrf_on(browser.get("/preferences").text)
            forged = {"X-Forwarded-For": f"198.51.100.{n + 1}"}
            data = {"csrf": token, "email": f"person{n}@example.com"}
            answers.append(browser.post("/preferences/link", data=data, headers=forged))
    assert [a.status_code for a in answers] == [200] * 10 + [429]
    assert "Too many links" in answers[-1].text


def behind_proxy(app: App, peer: str) -> TestClient:
    """Rightful behind a proxy at 10.0.0.2 that it trusts; the connection comes from `peer`."""
    settings: Settings = app.runtime.settings.model_copy(update={"trusted_proxies": ["10.0.0.0/8"]})
    runtime = dataclasses.replace(app.runtime, settings=settings)
    return TestClient(create_app(runtime, start_worker=False), client=(peer, 50000))


def test_a_trusted_proxy_s_right_most_hop_is_the_client_whatever_comes_before(
    rightful_app: App,
) -> None:
    with behind_proxy(rightful_app, "10.0.0.2") as proxied:
        for n in range(10):  # the client writes anything it likes left of what the proxy saw
            forged = {"X-Forwarded-For": f"{secrets.token_hex(4)}, 203.0.113.7"}
            proxied.headers.update(forged)
            ask_for_link(proxied, f"person{n}@example.com")
        proxied.headers.update({"X-Forwarded-For": "192.0.2.1, 203.0.113.7"})
        assert "Too many links" in ask_for_link(proxied, "person10@example.com")
        proxied.headers.update({"X-Forwarded-For": "203.0.113.8"})  # another client of the proxy
        assert "We have sent a link" in ask_for_link(proxied, "person10@example.com")


def test_forwarded_for_from_a_peer_that_is_not_a_trusted_proxy_is_ignored(
    rightful_app: App,
) -> None:
    with behind_proxy(rightful_app, "192.0.2.50") as direct:
        for n in range(10):
            direct.headers.update({"X-Forwarded-For": f"203.0.113.{n + 1}"})
            ask_for_link(direct, f"person{n}@example.com")
        assert "Too many links" in ask_for_link(direct, "person10@example.com")
    assert len(letters(rightful_app, "person10@example.com", "preferences_link")) == 0
