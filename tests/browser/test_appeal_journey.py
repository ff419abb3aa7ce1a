"""An appeal from denial to outcome in a real browser: one staff member denies a Virginia
request, the person follows the e-mailed link and writes their appeal, the same staff member is
told someone else must decide, a second one upholds it, and the outcome with the regulator's
contact arrives over SMTP."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest

from rightful.core.db import unit_of_work
from rightful.rights import service
from rightful.rights.schemas import RequestIn
from rightful.security.permissions import system_actor
from rightful.security.service import create_staff
from tests.support.live import LiveRightful
from tests.support.services import SmtpTestServer

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = pytest.mark.browser

APPROVER, PASSWORD = "ava.approver@lumen.example", "another correct horse battery"
PERSON = "river.appeal@example.com"


def sign_in(page: Page, live: LiveRightful, email: str, password: str) -> None:
    page.goto(live.url("/admin/login"))
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def test_an_appeal_goes_from_denial_to_a_written_outcome_naming_the_regulator(
    chromium_browser: Browser, live_rightful: LiveRightful, smtp_server: SmtpTestServer
) -> None:
    from playwright.sync_api import expect

    runtime = live_rightful.runtime
    with unit_of_work(runtime.sessions) as session:
        create_staff(
            session,
            email=APPROVER,
            name="Ava Approver",
            password=PASSWORD,
            actor=system_actor("test"),
            role="approver",
        )
        data = RequestIn(request_type="know_categories", email=PERSON, jurisdiction="VA")
        req = service.create_request(session, runtime.settings, data)
        request_id, reference = req.id, req.reference

    approver = chromium_browser.new_context()
    person = chromium_browser.new_context()
    officer = chromium_browser.new_context()
    try:
        page = approver.new_page()
        sign_in(page, live_rightful, APPROVER, PASSWORD)
        page.goto(live_rightful.url(f"/admin/requests/{request_id}"))
        page.get_by_label("Deny the request").fill(
            "We could not match these details to any account we hold."
        )
        page.get_by_role("button", name="Deny", exact=True).click()
        expect(page.locator(".title-line .pill")).to_have_text("Denied")

        denial = smtp_server.wait_for(PERSON, subject_contains="About your privacy request")
        text = denial.get_body(("plain",)).get_content()  # type: ignore[union-attr]
        link = re.search(r"http://\S+/appeal/\S+", text)
        assert link, text

        mine = person.new_page()
        mine.goto(link.group(0))
        expect(mine.get_by_role("heading", level=1)).to_have_text("Appeal our decision")
        mine.get_by_label("Why do you disagree with our decision?").fill(
            "I have had an account under this address since 2021; please look again."
        )
        mine.get_by_role("button", name="Send my appeal").click()
        expect(mine.get_by_role("status")).to_contain_text("We received your appeal")
        smtp_server.wait_for(PERSON, subject_contains="We received your appeal")

        page.goto(live_rightful.url("/admin/appeals"))
        page.get_by_role("link", name=f"{reference} appeal").click()
        expect(page.locator("#decide-title + p")).to_contain_text(
            "You made the decision under appeal, so someone else must decide the appeal."
        )

        second = officer.new_page()
        sign_in(second, live_rightful, live_rightful.staff_email, live_rightful.staff_password)
        second.get_by_role("link", name="Appeals", exact=True).click()
        second.get_by_role("link", name=f"{reference} appeal").click()
        expect(second.get_by_text("I have had an account under this address")).to_be_visible()
        second.get_by_label("Upheld: the first decision stands").check()
        second.get_by_label("The written outcome").fill(
            "We searched every system again and hold no account under this address."
        )
        second.get_by_role("button", name="Decide the appeal").click()
        expect(second.locator("#decide-title + p")).to_contain_text("This appeal is decided.")

        outcome = smtp_server.wait_for(PERSON, subject_contains="outcome of your appeal")
        words = outcome.get_body(("plain",)).get_content()  # type: ignore[union-attr]
        assert "The decision stands." in words
        assert "We searched every system again" in words
        assert "Attorney General of Virginia" in words
        assert "oag.state.va.us" in words
        mine.reload()
        expect(mine.get_by_role("status")).to_contain_text("We decided your appeal")
    finally:
        for context in (approver, person, officer):
            context.close()
