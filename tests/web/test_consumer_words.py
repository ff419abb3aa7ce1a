"""What the privacy center, its e-mails and the API say to consumers is true and plain."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from rightful.messaging.service import list_outbox, open_letter
from rightful.rights.models import RightsRequest
from rightful.rights.service import requester_of
from tests.support.app import AVERY, App, latest_code
from tests.web.test_privacy_center import csrf, form, requests_count

NO_CHECK = "No verification is needed for this request"
SEND_NEW_CODE = re.compile(r"<button[^>]*>\s*Send me a new code\s*</button>")


def submit(app: App, **overrides: str) -> str:
    """Send the form; the status page's path."""
    r = app.client.post("/requests", data=form(app, **overrides), follow_redirects=False)
    assert r.status_code == 303, r.text
    return str(r.headers["location"])


def only_request(app: App) -> RightsRequest:
    with app.runtime.sessions() as session:
        req = session.scalar(select(RightsRequest))
        assert req is not None
        session.expunge(req)
        return req


def letters(app: App, template: str) -> list[str]:
    """Plain-text bodies of the e-mails of one template, newest first."""
    with app.runtime.sessions() as session:
        found = [open_letter(app.runtime.settings, m) for m in list_outbox(session)]
    return [letter.text for letter in found if letter.template == template]


def words(page: str) -> str:
    """A page's text as a person reads it: tags removed, spaces collapsed."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", page))


def try_code(app: App, location: str, code: str) -> str:
    r = app.client.post(f"{location}/verify", data={"csrf": csrf(app, location), "code": code})
    return r.text


# Item 12: requests that need no verification never claim it happened.


@pytest.mark.parametrize("request_type", ["opt_out_sale", "limit_sensitive"])
def test_a_request_needing_no_verification_says_so_on_its_status_page(
    rightful_app: App, request_type: str
) -> None:
    page = rightful_app.client.get(
        submit(rightful_app, request_type=request_type, declaration_signature="")
    ).text
    assert NO_CHECK in page
    assert "identity is confirmed" not in page.lower()
    assert "Identity check" not in page  # no progress step for a check that never happens


@pytest.mark.parametrize("request_type", ["opt_out_sale", "limit_sensitive"])
def test_the_acknowledgement_of_a_request_needing_no_verification_says_so(
    rightful_app: App, request_type: str
) -> None:
    submit(rightful_app, request_type=request_type, declaration_signature="")
    [text] = letters(rightful_app, "acknowledgement")
    assert NO_CHECK in text
    assert "identity" not in text.lower()


def test_a_verified_request_still_says_the_identity_is_confirmed(rightful_app: App) -> None:
    location = submit(rightful_app)
    page = try_code(
        rightful_app, location, latest_code(rightful_app.runtime, only_request(rightful_app).id)
    )
    assert "Your identity is confirmed." in page and NO_CHECK not in page


# Item 13: the declaration cites the law of the state the person chose.


def test_the_declaration_signed_for_texas_cites_texas_law(rightful_app: App) -> None:
    submit(rightful_app, jurisdiction="TX", declaration_jurisdiction="TX")
    signed = only_request(rightful_app).declaration
    assert signed and "under the laws of the State of Texas" in signed
    assert "California" not in signed


def test_the_form_shows_the_declaration_of_the_state_chosen(rightful_app: App) -> None:
    r = rightful_app.client.post(
        "/requests", data=form(rightful_app, jurisdiction="VA", email="nope")
    )
    assert r.status_code == 422
    assert "under the laws of the Commonwealth of Virginia that I am" in words(r.text)
    assert "State of California" not in words(r.text)


def test_a_signature_under_another_state_s_text_is_asked_again(rightful_app: App) -> None:
    # Without JavaScript the page showed California's text; the person then chose Texas.
    r = rightful_app.client.post(
        "/requests", data=form(rightful_app, jurisdiction="TX", declaration_jurisdiction="CA")
    )
    assert r.status_code == 422
    assert "under the laws of the State of Texas that I am" in words(r.text)
    assert "sign again" in r.text and 'aria-invalid="true"' in r.text
    assert requests_count(rightful_app) == 0


def test_the_api_stores_the_declaration_of_the_request_s_state(rightful_app: App) -> None:
    r = rightful_app.client.post(
        "/api/v1/rights-requests",
        headers=rightful_app.auth,
        json={
            "request_type": "access",
            "declaration_signature": "Avery Quinn",
            "jurisdiction": "NY",
            **AVERY,
        },
    )
    assert r.status_code == 201, r.text
    signed = only_request(rightful_app).declaration
    assert signed and "under the laws of the State of New York" in signed


# Item 14: validation in plain words, the lock after five wrong codes, the agent's name.


def test_a_bad_e_mail_address_gets_an_example_not_the_library_s_words(rightful_app: App) -> None:
    r = rightful_app.client.post("/requests", data=form(rightful_app, email="ava@@example.com"))
    assert r.status_code == 422
    assert "Enter a valid e-mail address, like name@example.com." in r.text
    assert "@-sign" not in r.text and "invalid characters" not in r.text


def test_the_api_names_a_bad_e_mail_address_in_the_same_words(rightful_app: App) -> None:
    r = rightful_app.client.post(
        "/api/v1/rights-requests",
        headers=rightful_app.auth,
        json={"request_type": "delete", "email": "ava@exa mple.com"},
    )
    assert r.status_code == 422
    assert r.json()["errors"] == [
        {"field": "email", "message": "Enter a valid e-mail address, like name@example.com."}
    ]


def test_tries_left_are_counted_in_good_english(rightful_app: App) -> None:
    location = submit(rightful_app)
    pages = [try_code(rightful_app, location, "000000") for _ in range(4)]
    assert "3 tries left." in pages[1]
    assert "1 try left." in pages[3] and "1 tries" not in pages[3]


def test_after_five_wrong_codes_the_page_says_the_code_is_locked(rightful_app: App) -> None:
    location = submit(rightful_app)
    for _ in range(5):
        page = try_code(rightful_app, location, "000000")
    assert "locked" in page and SEND_NEW_CODE.search(page)
    assert 'name="code"' not in page  # no field that can no longer work
    again = rightful_app.client.get(location).text
    assert "This code is locked after 5 wrong tries" in again and 'name="code"' not in again
    # Even the right code no longer works once locked.
    right = latest_code(rightful_app.runtime, only_request(rightful_app).id)
    assert "locked" in try_code(rightful_app, location, right)
    assert only_request(rightful_app).status == "verifying"


def test_a_new_code_after_the_lock_is_sent_and_works(rightful_app: App) -> None:
    location = submit(rightful_app)
    for _ in range(5):
        try_code(rightful_app, location, "000000")
    r = rightful_app.client.post(f"{location}/resend", data={"csrf": csrf(rightful_app, location)})
    assert r.status_code == 200 and "We sent a new code" in r.text and 'name="code"' in r.text
    assert len(letters(rightful_app, "code")) == 1
    new = latest_code(rightful_app.runtime, only_request(rightful_app).id)
    assert "Under review by our privacy team" in try_code(rightful_app, location, new)


def test_new_codes_after_the_lock_are_still_rate_limited(rightful_app: App) -> None:
    location = submit(rightful_app)
    for _ in range(5):
        try_code(rightful_app, location, "000000")
    statuses = [
        rightful_app.client.post(
            f"{location}/resend", data={"csrf": csrf(rightful_app, location)}
        ).status_code
        for _ in range(3)
    ]
    # Five codes an hour per address, across its requests: the first, three new ones, and the
    # code of a second request (a sixth for one request would close it: see test_mail_limits).
    second = submit(rightful_app)
    statuses.append(
        rightful_app.client.post(
            f"{second}/resend", data={"csrf": csrf(rightful_app, second)}
        ).status_code
    )
    assert statuses == [200, 200, 200, 429]
    assert len(letters(rightful_app, "code")) == 3


def test_an_agent_request_without_the_agent_s_name_is_shown_again(rightful_app: App) -> None:
    r = rightful_app.client.post(
        "/requests",
        data=form(
            rightful_app,
            requester_role="agent",
            requester_name="  ",
            requester_email="helper@agents.example",
        ),
    )
    assert r.status_code == 422
    assert '<a href="#requester_name">Enter the agent' in r.text
    assert 'id="requester_name-error"' in r.text
    assert f'value="{AVERY["email"]}"' in r.text and 'value="agent" checked' in r.text
    assert requests_count(rightful_app) == 0


def test_the_api_refuses_an_agent_request_without_the_agent_s_name(rightful_app: App) -> None:
    r = rightful_app.client.post(
        "/api/v1/rights-requests",
        headers=rightful_app.auth,
        json={"request_type": "delete", "email": AVERY["email"], "by_agent": True},
    )
    assert r.status_code == 422
    assert r.headers["content-type"] == "application/problem+json"
    assert [e["field"] for e in r.json()["errors"]] == ["agent_name"]
    assert requests_count(rightful_app) == 0


def test_the_agent_s_name_is_kept_with_the_request(rightful_app: App) -> None:
    r = rightful_app.client.post(
        "/requests",
        data=form(
            rightful_app,
            requester_role="agent",
            requester_name="Privacy Helpers LLC",
            requester_email="helper@agents.example",
        ),
        files={"agent_permission": ("permission.pdf", b"%PDF-1.4 signed", "application/pdf")},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    req = only_request(rightful_app)
    assert req.by_agent and req.requester_role == "agent"
    own = requester_of(rightful_app.runtime.settings, req)
    assert own == {"name": "Privacy Helpers LLC", "email": "helper@agents.example"}


def test_an_expired_code_says_so_and_offers_a_new_one(rightful_app: App) -> None:
    from rightful.core.clock import utcnow
    from rightful.identity.models import VerificationCode

    location = submit(rightful_app)
    with rightful_app.runtime.sessions() as session, session.begin():
        for code in session.scalars(select(VerificationCode)):
            code.expires_at = utcnow()
    page = rightful_app.client.get(location).text
    assert "Your code has expired" in page and SEND_NEW_CODE.search(page)
    assert 'name="code"' not in page


def test_a_too_long_answer_is_named_in_plain_words(rightful_app: App) -> None:
    r = rightful_app.client.post("/requests", data=form(rightful_app, name="A" * 201))
    assert r.status_code == 422
    assert "Shorten this to 200 characters or fewer." in r.text
    assert "String should have" not in r.text
