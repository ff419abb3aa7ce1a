"""Links that sign in or confirm work once, for their recipient only (issue 9, items 5 and 6):
a preference-center link and a site's assertion sign in once and only by a POST; a double
opt-in link confirms once; staff never read a single-purpose link outside demo mode."""

from __future__ import annotations

import dataclasses
import re
import time
from collections.abc import Iterator
from typing import Any

import jwt
import pytest
from fastapi.testclient import TestClient

from rightful.consent import assertion
from rightful.core.db import unit_of_work
from rightful.messaging.service import SINGLE_PURPOSE_PATHS, Letter, hide_secrets
from rightful.rights.execution import run_request
from rightful.rights.partners import deliver_notices
from rightful.web.app import create_app
from tests.integration.rights.test_erasure import erase_avery
from tests.support.app import App, link_from
from tests.support.consent_pages import (
    CASEY,
    ask_for_link,
    csrf_on,
    letters,
    open_preferences,
)
from tests.web.test_admin import sign_in

JWT_SECRET = "a-shared-secret-between-the-store-and-rightful-0123456789"


def another_browser(app: App, **settings: object) -> TestClient:
    """A second browser on the same Rightful (and store), optionally with other settings."""
    changed = app.runtime.settings.model_copy(update=settings)
    runtime = dataclasses.replace(app.runtime, settings=changed)
    return TestClient(create_app(runtime, start_worker=False))


@pytest.fixture
def site(rightful_app: App) -> Iterator[TestClient]:
    """Rightful as the company's site posts to it, sharing the site's JWT secret."""
    with another_browser(rightful_app, preference_jwt_secret=JWT_SECRET) as client:
        yield client


def site_assertion(app: App, **claims: object) -> str:
    settings = app.runtime.settings.model_copy(update={"preference_jwt_secret": JWT_SECRET})
    if not claims:
        return assertion.issue(settings, CASEY)
    return jwt.encode(claims, JWT_SECRET, algorithm="HS256")


# --- one-time sign-in ---------------------------------------------------------------------------


def test_opening_the_emailed_link_signs_no_one_in_until_its_button_is_pressed(
    rightful_app: App,
) -> None:
    ask_for_link(rightful_app.client, CASEY)
    url = link_from(letters(rightful_app, CASEY, "preferences_link")[0].text, "/preferences/open/")
    page = rightful_app.client.get(url)  # what a mail scanner does
    assert page.status_code == 200 and "Open my choices" in page.text
    assert rightful_app.client.get("/preferences/manage").status_code == 401
    rightful_app.client.post(url, data={"csrf": csrf_on(page.text)})
    assert rightful_app.client.get("/preferences/manage").status_code == 200


def test_a_reused_magic_link_is_refused(rightful_app: App) -> None:
    open_preferences(rightful_app)
    url = link_from(letters(rightful_app, CASEY, "preferences_link")[0].text, "/preferences/open/")
    with another_browser(rightful_app) as other:
        page = other.get(url)
        answer = other.post(url, data={"csrf": csrf_on(page.text)})
        assert answer.status_code == 400 and "This link has already been used" in answer.text
        assert other.get("/preferences/manage").status_code == 401


def test_a_replayed_site_assertion_is_refused(rightful_app: App, site: TestClient) -> None:
    signed = site_assertion(rightful_app)
    first = site.post("/preferences/sso", data={"assertion": signed}, follow_redirects=False)
    assert first.status_code == 303
    with another_browser(rightful_app, preference_jwt_secret=JWT_SECRET) as thief:
        again = thief.post("/preferences/sso", data={"assertion": signed})
        assert again.status_code == 400 and "already been used" in again.text
        assert thief.get("/preferences/manage").status_code == 401


def test_an_assertion_without_a_jti_still_signs_in_only_once(
    rightful_app: App, site: TestClient
) -> None:
    now = int(time.time())
    claims = {"email": CASEY, "aud": "http://testserver", "iat": now, "exp": now + 300}
    signed = site_assertion(rightful_app, **claims)
    assert site.post("/preferences/sso", data={"assertion": signed}).status_code == 200
    assert site.post("/preferences/sso", data={"assertion": signed}).status_code == 400


def test_a_double_opt_in_link_confirms_once_even_after_an_unsubscribe(rightful_app: App) -> None:
    body = {"email": CASEY, "topics": ["marketing.offers"], "source": "footer-form"}
    rightful_app.client.post("/api/v1/consent/subscriptions", json=body, headers=rightful_app.auth)
    url = link_from(letters(rightful_app, CASEY, "subscription_confirm")[0].text, "/subscribe/")
    token = csrf_on(rightful_app.client.get(url).text)
    assert "You are subscribed" in rightful_app.client.post(url, data={"csrf": token}).text
    withdraw = {"purpose": "marketing.offers", "channel": "email", "state": "withdrawn"}
    rightful_app.client.post(
        "/api/v1/consent/events",
        json={"email": CASEY, "choices": [withdraw]},
        headers=rightful_app.auth,
    )
    again = rightful_app.client.post(url, data={"csrf": token})
    assert again.status_code == 400 and "already confirmed" in again.text
    check = {"email": CASEY, "purpose": "marketing.offers", "channel": "email"}
    allowed = rightful_app.client.post(
        "/api/v1/consent/check", json=check, headers=rightful_app.auth
    )
    assert allowed.json()["allowed"] is False  # the old link did not sign them up again


# --- links staff never hold ---------------------------------------------------------------------


def outbox(app: App, template: str) -> list[dict[str, object]]:
    """The outbox as an API token reads it."""
    answer = app.client.get("/api/v1/outbox", headers=app.auth)
    assert answer.status_code == 200, answer.text
    return [m for m in answer.json() if m["template"] == template]


def partner_letters(app: App) -> list[int]:
    """Erase Avery, so every partner without a webhook is e-mailed a confirmation link."""
    request_id = erase_avery(app.runtime)
    assert run_request(app.runtime.sessions, app.runtime.settings, request_id) == "executing"
    with unit_of_work(app.runtime.sessions) as session:
        assert deliver_notices(session, app.runtime.settings) > 0
    return [int(str(m["id"])) for m in outbox(app, "partner_erasure")]


def test_staff_never_hold_a_partner_s_confirmation_link(rightful_app: App) -> None:
    ids = partner_letters(rightful_app)
    for letter in outbox(rightful_app, "partner_erasure"):
        assert "/partners/ack/[hidden]" in str(letter["text"])
        assert not re.search(
            r"/partners/ack/(?!\[hidden\])", str(letter["text"]) + str(letter["html"])
        )
        assert letter["secrets_shown"] is False
    sign_in(rightful_app)
    page = rightful_app.client.get(f"/admin/outbox/{ids[0]}").text
    assert "/partners/ack/[hidden]" in page and not re.search(r"/partners/ack/(?!\[hidden\])", page)


def test_staff_never_hold_a_double_opt_in_link(rightful_app: App) -> None:
    body = {"email": CASEY, "topics": ["marketing.offers"], "source": "footer-form"}
    rightful_app.client.post("/api/v1/consent/subscriptions", json=body, headers=rightful_app.auth)
    [letter] = outbox(rightful_app, "subscription_confirm")
    assert "/subscribe/confirm/[hidden]" in str(letter["text"])
    assert "/subscribe/confirm/[hidden]" in str(letter["html"])


def test_staff_never_hold_a_marketing_e_mail_s_unsubscribe_link(rightful_app: App) -> None:
    give = {"purpose": "marketing.offers", "channel": "email", "state": "given"}
    rightful_app.client.post(
        "/api/v1/consent/events",
        json={"email": CASEY, "choices": [give]},
        headers=rightful_app.auth,
    )
    message = {
        "to": CASEY,
        "topic": "marketing.offers",
        "subject": "Sale",
        "text": "Hi",
        "html": "Hi",
    }
    sent = rightful_app.client.post(
        "/api/v1/marketing/messages", json=message, headers=rightful_app.auth
    )
    assert sent.status_code == 202 and sent.json()["message_id"], sent.text
    [letter] = outbox(rightful_app, "marketing:marketing.offers")
    assert letter["headers"]["List-Unsubscribe"] == "<http://testserver/unsubscribe/[hidden]>"  # type: ignore[index]
    assert "/unsubscribe/[hidden]" in str(letter["text"])


def route_paths(routes: list[Any]) -> Iterator[str]:
    """Every path the app serves, through the routers it includes."""
    for route in routes:
        if hasattr(route, "original_router"):  # FastAPI keeps an included router whole
            yield from route_paths(route.original_router.routes)
        elif isinstance(getattr(route, "path", None), str):
            yield route.path


def test_every_link_that_carries_a_token_is_hidden_from_staff(rightful_app: App) -> None:
    paths = {p for p in route_paths(rightful_app.client.app.routes) if "{token}" in p}  # type: ignore[attr-defined]
    assert len(paths) >= 7  # status, download, sign-in, confirmations, partners, and any new one
    for path in paths:
        url = "http://testserver" + path.replace("{token}", "eyJhIjoxfQ.aBcD_e-1.sIgNaTuRe")
        letter = Letter(1, "x@example.com", "s", f"Open {url} now", url, "sent", "", "t")
        assert "sIgNaTuRe" not in hide_secrets(letter).text + hide_secrets(letter).html, path
    prefixes = {p.split("/{token}")[0].strip("/") for p in paths}
    assert prefixes <= set(SINGLE_PURPOSE_PATHS)


def test_in_demo_mode_the_outbox_shows_the_links_and_says_so(rightful_app: App) -> None:
    body = {"email": CASEY, "topics": ["marketing.offers"], "source": "footer-form"}
    rightful_app.client.post("/api/v1/consent/subscriptions", json=body, headers=rightful_app.auth)
    with another_browser(rightful_app, demo_mode=True) as demo:
        [letter] = [
            m
            for m in demo.get("/api/v1/outbox", headers=rightful_app.auth).json()
            if m["template"] == "subscription_confirm"
        ]
        assert letter["secrets_shown"] is True
        assert re.search(r"/subscribe/confirm/(?!\[hidden\])\S+", letter["text"])
        sign_in(App(rightful_app.runtime, demo, rightful_app.token))
        page = demo.get("/admin/outbox").text
        assert "Demo mode:" in page and "shown here so you can take the tour" in page
