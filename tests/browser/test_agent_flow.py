"""An authorized agent files for a consumer in a real browser; the consumer confirms by the
link staff had e-mailed; the request runs on the consumer's records and the agent sees it.
Staff also record a letter in the console and print the reply. Screenshots go to /tmp."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.browser.test_access_journey import (
    assert_accessible_basics,
    expect,
    heading,
    reference_on,
    staff_console,
)
from tests.support.app import code_from, link_from
from tests.support.live import LiveRightful
from tests.support.services import SmtpTestServer

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = pytest.mark.browser

AVERY = "avery.quinn@example.com"
AGENT = "desk@helpers.example"
SHOTS = Path(tempfile.gettempdir()) / "rightful-intake-shots"  # to look at; never in the repo


def shot(page: Page, name: str, *, media: str = "screen") -> None:
    """Keep a full-page screenshot to look at (never in the repository)."""
    SHOTS.mkdir(exist_ok=True)
    page.emulate_media(media=media)  # type: ignore[arg-type]
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
    page.emulate_media(media="screen")


def agent_files_for_avery(page: Page, live: LiveRightful, request_label: str) -> None:
    page.goto(live.url("/requests/new"))
    assert_accessible_basics(page)
    page.get_by_label(request_label).check()
    page.get_by_label("I am an authorized agent asking for someone else").check()
    page.get_by_label("Your full name (an agent may give a business name)").fill(
        "Privacy Helpers LLC"
    )
    page.get_by_label("Your own e-mail, for the code and our answers").fill(AGENT)
    page.get_by_label("The person's signed permission for you to act for them").set_input_files(
        {"name": "permission.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4 signed"}
    )
    page.get_by_label("E-mail address").fill(AVERY)
    page.get_by_label("Phone number").fill("(415) 555-0134")
    page.get_by_label(re.compile(r"^Full name")).fill("Avery Quinn")
    page.get_by_label("ZIP code").fill("94107")
    shot(page, "01-request-form-agent")
    page.get_by_role("button", name="Send request").click()
    expect(page.get_by_label("6-digit code")).to_be_visible()


def test_an_agent_s_request_runs_once_the_consumer_confirms_it(
    page: Page,
    chromium_browser: Browser,
    live_rightful: LiveRightful,
    smtp_server: SmtpTestServer,
) -> None:
    agent_files_for_avery(
        page, live_rightful, "Know what kinds of information we collect and share"
    )
    # The code goes to the agent, over real SMTP; the consumer gets nothing yet.
    page.get_by_label("6-digit code").fill(
        code_from(smtp_server.wait_for(AGENT, subject_contains="received"))
    )
    page.get_by_role("button", name="Confirm").click()
    expect(heading(page)).to_have_text("Under review by our privacy team")
    reference = reference_on(page)
    shot(page, "02-status-seen-by-agent")

    with staff_console(chromium_browser, live_rightful) as staff:
        staff.get_by_role("link", name=reference).click()
        expect(staff.get_by_role("main")).to_contain_text("filed by an authorized agent")
        assert_accessible_basics(staff)
        shot(staff, "03-console-agent-request")
        staff.get_by_role("button", name="Ask the consumer to confirm directly").click()
        expect(staff.get_by_role("main")).to_contain_text("Asked, waiting for the answer")

        asked = smtp_server.wait_for(AVERY, subject_contains="Did you ask")
        consumer = chromium_browser.new_page()
        consumer.goto(link_from(asked, "/confirm-agent/"))
        assert_accessible_basics(consumer)
        shot(consumer, "04-consumer-confirms")
        consumer.get_by_role("button", name="Yes, I gave permission").click()
        expect(heading(consumer)).to_contain_text("you confirmed the request")
        consumer.close()

        staff.reload()
        expect(staff.get_by_role("main")).to_contain_text("Confirmed by the consumer")
        staff.get_by_role("button", name="Approve and run").click()
        expect(staff.get_by_role("button", name="Approve and run")).to_have_count(0)

    done = smtp_server.wait_for(AGENT, subject_contains="complete")
    assert reference in str(done["subject"])
    page.reload()
    expect(heading(page)).to_have_text("Completed")
    to_avery = [m for m in smtp_server.messages if m.is_addressed_to(AVERY)]
    assert len(to_avery) == 1  # only the question; every other e-mail went to the agent


def test_a_limit_request_by_an_agent_cannot_be_held_for_the_consumer_s_confirmation(
    page: Page,
    chromium_browser: Browser,
    live_rightful: LiveRightful,
    smtp_server: SmtpTestServer,
) -> None:
    page.goto(live_rightful.url("/requests/new"))
    # Opting out and limiting: the law forbids requiring the consumer to confirm (§ 7026(d)).
    page.get_by_label("Limit the use of my sensitive personal information").check()
    page.get_by_label("I am an authorized agent asking for someone else").check()
    page.get_by_label("Your full name (an agent may give a business name)").fill("Helpers")
    page.get_by_label("Your own e-mail, for the code and our answers").fill(AGENT)
    page.get_by_label("The person's signed permission for you to act for them").set_input_files(
        {"name": "permission.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4 signed"}
    )
    page.get_by_label("E-mail address").fill(AVERY)
    page.get_by_role("button", name="Send request").click()
    reference = reference_on(page)
    with staff_console(chromium_browser, live_rightful) as staff:
        staff.get_by_role("link", name=reference).click()
        staff.get_by_role("button", name="Ask the consumer to confirm directly").click()
        expect(staff.get_by_role("alert")).to_contain_text("7026(d)")
        shot(staff, "05-console-limit-no-direct-confirmation")
        expect(staff.get_by_role("main")).not_to_contain_text("Asked, waiting for the answer")
    assert not [m for m in smtp_server.messages if m.is_addressed_to(AVERY)]


def test_staff_record_a_letter_and_print_the_reply(
    chromium_browser: Browser, live_rightful: LiveRightful, tmp_path: Path
) -> None:
    scan = tmp_path / "letter.pdf"
    scan.write_bytes(b"%PDF-1.4 Dear privacy office, please delete my data.")
    with staff_console(chromium_browser, live_rightful) as staff:
        staff.get_by_role("link", name="Record a letter or call").click()
        expect(heading(staff)).to_have_text("Record a request")
        assert_accessible_basics(staff)
        shot(staff, "06-console-intake-form")
        staff.get_by_role("button", name="Record the request").click()
        expect(staff.get_by_role("alert")).to_contain_text("Some details need attention")
        assert_accessible_basics(staff)
        shot(staff, "07-console-intake-errors")
        staff.get_by_label("Request type").select_option("delete")
        staff.get_by_label("Full name").fill("Morgan Lee")
        staff.get_by_label("Postal address").fill("8 Pine Road\nOakland, CA 94612")
        staff.get_by_label("Scanned letter").set_input_files(str(scan))
        staff.get_by_label("Signed letter compared with our records").check()
        staff.get_by_role("button", name="Record the request").click()
        expect(staff.get_by_role("main")).to_contain_text("no e-mail: replies by post")
        assert_accessible_basics(staff)
        shot(staff, "08-console-letter-request")
        staff.get_by_role("link", name=re.compile("^Printable letter")).first.click()
        expect(heading(staff)).to_have_text("Letter to post")
        expect(staff.get_by_role("article")).to_contain_text("Morgan Lee")
        expect(staff.get_by_role("article")).to_contain_text("Thank you for your letter")
        shot(staff, "09-printable-letter-screen")
        shot(staff, "10-printable-letter-print", media="print")
