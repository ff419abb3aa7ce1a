"""The contact form in Chromium: a complaint, then its acknowledgement over real SMTP."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.support.live import LiveRightful
from tests.support.services import SmtpTestServer

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.browser


def test_a_complaint_sent_from_the_contact_form_is_acknowledged(
    page: Page, live_rightful: LiveRightful, smtp_server: SmtpTestServer
) -> None:
    page.goto(live_rightful.url("/contact"))
    page.get_by_role("button", name="Send").click()  # empty: every problem listed
    assert page.get_by_role("alert").is_visible()
    page.get_by_label("A complaint").check()
    page.get_by_label("Your message").fill("Your app shares my location without asking.")
    page.get_by_label("E-mail address").fill("casey@example.com")
    page.get_by_role("button", name="Send").click()
    assert page.get_by_role("heading", level=1).inner_text().startswith("Thank you")
    ack = smtp_server.wait_for("casey@example.com", subject_contains="[PC-")
    text = ack.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "We take complaints seriously" in text
