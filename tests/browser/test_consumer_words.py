"""In a real browser, the privacy center tells people the truth in plain words.

The declaration names the law of the state chosen as soon as it is chosen, and the request keeps
that text; a code locked after five wrong tries says so and offers a new one that works; a
request that needs no verification says so; an agent's request asks for the agent's name.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select

from rightful.rights.models import RightsRequest
from tests.browser.test_access_journey import (
    AVERY,
    assert_accessible_basics,
    emailed_code,
    enter_code,
    expect,
    heading,
)
from tests.support.app import code_from
from tests.support.live import LiveRightful
from tests.support.services import SmtpTestServer

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.browser


def fill_request(page: Page, live: LiveRightful, kind: str) -> None:
    """Open the form and fill in Avery's details for a request of one kind."""
    page.goto(live.url("/requests/new"))
    page.get_by_label(kind).check()
    page.get_by_label("E-mail address").fill(AVERY)
    page.get_by_label(re.compile(r"^Full name")).fill("Avery Quinn")
    page.get_by_label("ZIP code").fill("94107")
    page.get_by_label("Phone number").fill("(415) 555-0134")


def stored_declaration(live: LiveRightful) -> str | None:
    with live.runtime.sessions() as session:
        return session.scalar(select(RightsRequest.declaration))


def test_the_declaration_follows_the_state_chosen_and_is_kept_as_shown(
    page: Page, live_rightful: LiveRightful
) -> None:
    fill_request(page, live_rightful, "Get a copy of my personal information")
    declaration = page.locator("blockquote.declaration")
    expect(declaration).to_contain_text("under the laws of the State of California")
    page.get_by_label("State or country where you live").select_option("Texas")
    expect(declaration).to_contain_text("under the laws of the State of Texas")
    expect(declaration).not_to_contain_text("California")
    shown = declaration.inner_text()
    page.get_by_label("Type your full name to sign").fill("Avery Quinn")
    page.get_by_role("button", name="Send request").click()
    expect(page.get_by_label("6-digit code")).to_be_visible()
    assert stored_declaration(live_rightful) == shown


def test_a_locked_code_says_so_and_a_new_one_works(
    page: Page, live_rightful: LiveRightful, smtp_server: SmtpTestServer
) -> None:
    fill_request(page, live_rightful, "Delete my personal information")
    page.get_by_role("button", name="Send request").click()
    wrong = f"{(int(emailed_code(smtp_server)) + 1) % 1_000_000:06d}"
    for _ in range(4):
        enter_code(page, wrong)
    expect(page.get_by_role("alert")).to_contain_text("1 try left.")
    enter_code(page, wrong)
    expect(page.get_by_role("heading", name="Your code is locked")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text("locked after 5 wrong tries")
    expect(page.get_by_label("6-digit code")).to_have_count(0)
    assert_accessible_basics(page)
    page.get_by_role("button", name="Send me a new code").click()
    expect(page.get_by_role("status")).to_contain_text("We sent a new code")
    new = code_from(smtp_server.wait_for(AVERY, subject_contains="new code"))
    enter_code(page, new)
    expect(heading(page)).to_have_text("Under review by our privacy team")


def test_an_opt_out_says_no_verification_is_needed(
    page: Page, live_rightful: LiveRightful, smtp_server: SmtpTestServer
) -> None:
    fill_request(page, live_rightful, "Do not sell or share my personal information")
    page.get_by_role("button", name="Send request").click()
    main = page.get_by_role("main")
    expect(main).to_contain_text("No verification is needed for this request")
    expect(main).not_to_contain_text("identity is confirmed")
    expect(page.get_by_role("list", name="Progress of your request")).not_to_contain_text(
        "Identity check"
    )
    assert_accessible_basics(page)
    acknowledgement = smtp_server.wait_for(AVERY, subject_contains="received")
    text = acknowledgement.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "No verification is needed for this request" in text


def test_an_agent_is_asked_for_their_name(page: Page, live_rightful: LiveRightful) -> None:
    fill_request(page, live_rightful, "Delete my personal information")
    page.get_by_label("I am an authorized agent asking for someone else").check()
    page.get_by_role("button", name="Send request").click()
    expect(page.get_by_role("alert")).to_contain_text("Enter the agent's name.")
    agent = page.get_by_label("Your full name (an agent may give a business name)")
    expect(agent).to_have_attribute("aria-invalid", "true")
    expect(agent).to_have_accessible_description(re.compile("Enter the agent's name"))
    expect(page.get_by_label("E-mail address")).to_have_value(AVERY)
    expect(page.get_by_label("I am an authorized agent asking for someone else")).to_be_checked()
    assert_accessible_basics(page)
    agent.fill("Privacy Helpers LLC")
    page.get_by_label("Your own e-mail, for the code and our answers").fill("desk@helpers.example")
    page.get_by_label("The person's signed permission for you to act for them").set_input_files(
        {"name": "permission.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4 signed"}
    )
    page.get_by_role("button", name="Send request").click()
    expect(page.get_by_label("6-digit code")).to_be_visible()
