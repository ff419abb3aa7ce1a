"""A parent asks, in a real browser, for what is held about their child: the parent's e-mail
gets the code and the answer, over real SMTP; the request runs on the child's records."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest

from tests.browser.test_access_journey import (
    assert_accessible_basics,
    expect,
    heading,
    reference_on,
    staff_console,
)
from tests.browser.test_agent_flow import shot
from tests.support.app import code_from
from tests.support.live import LiveRightful
from tests.support.services import SmtpTestServer

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = pytest.mark.browser

CHILD = "avery.quinn@example.com"  # the demo estate's customer, here the child
PARENT = "jordan.quinn@example.net"


def test_a_parent_files_for_their_child_and_every_e_mail_goes_to_the_parent(
    page: Page,
    chromium_browser: Browser,
    live_rightful: LiveRightful,
    smtp_server: SmtpTestServer,
) -> None:
    page.goto(live_rightful.url("/requests/new"))
    page.get_by_label("Know what kinds of information we collect and share").check()
    page.get_by_label("I am a parent or guardian asking for my child").check()
    page.get_by_label("Your full name (an agent may give a business name)").fill("Jordan Quinn")
    page.get_by_label("Your own e-mail, for the code and our answers").fill(PARENT)
    page.get_by_role("checkbox", name=re.compile("parent or legal guardian of the child")).check()
    page.get_by_label("Evidence that you are the child's parent or guardian").set_input_files(
        {"name": "certificate.png", "mimeType": "image/png", "buffer": b"\x89PNG\r\n\x1a\n"}
    )
    page.get_by_label("E-mail address").fill(CHILD)
    page.get_by_label("Phone number").fill("(415) 555-0134")
    page.get_by_label(re.compile(r"^Full name")).fill("Avery Quinn")
    page.get_by_label("ZIP code").fill("94107")
    shot(page, "11-request-form-parent")
    page.get_by_role("button", name="Send request").click()
    received = smtp_server.wait_for(PARENT, subject_contains="received")
    page.get_by_label("6-digit code").fill(code_from(received))
    page.get_by_role("button", name="Confirm").click()
    expect(heading(page)).to_have_text("Under review by our privacy team")
    assert_accessible_basics(page)
    reference = reference_on(page)

    with staff_console(chromium_browser, live_rightful) as staff:
        staff.get_by_role("link", name=reference).click()
        expect(staff.get_by_role("main")).to_contain_text("filed by a parent for a child")
        expect(staff.get_by_role("main")).to_contain_text("Evidence of parenthood or guardianship")
        shot(staff, "12-console-parent-request")
        staff.get_by_role("button", name="Relation checked and valid").click()
        expect(staff.get_by_role("main")).to_contain_text("By " + live_rightful.staff_email)
        staff.get_by_role("button", name="Approve and run").click()
        expect(staff.get_by_role("button", name="Approve and run")).to_have_count(0)

    done = smtp_server.wait_for(PARENT, subject_contains="complete")
    assert reference in str(done["subject"])
    page.reload()
    expect(heading(page)).to_have_text("Completed")
    assert not [m for m in smtp_server.messages if m.is_addressed_to(CHILD)]
