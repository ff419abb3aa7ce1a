"""In Chromium: the console's Laws and deadlines page, and the privacy center's request form
offering every covered jurisdiction with the explicit 'not listed' choices; an Irish request
made in the form gets the GDPR's month (objections to marketing are answered within it)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select

from rightful.rights.models import RightsRequest
from tests.support.live import LiveRightful

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.browser


def test_staff_read_the_laws_page(page: Page, live_rightful: LiveRightful) -> None:
    from playwright.sync_api import expect

    page.goto(live_rightful.url("/admin/login"))
    page.get_by_label("E-mail").fill(live_rightful.staff_email)
    page.get_by_label("Password").fill(live_rightful.staff_password)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("link", name="Laws", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Laws and deadlines")
    texas = page.locator("section", has=page.locator("#pack-us-tx"))
    expect(texas).to_contain_text("Tex. Bus. & Com. Code § 541.053")
    expect(texas).to_contain_text("60 calendar days")


def test_the_form_offers_every_jurisdiction_and_an_irish_request_gets_a_month(
    page: Page, live_rightful: LiveRightful
) -> None:
    from playwright.sync_api import expect

    page.goto(live_rightful.url("/requests/new?type=opt_out_sale"))
    where = page.get_by_label("State or country where you live")
    for name in ("Texas", "Virginia", "New York", "Ireland", "Another US place (not listed)"):
        exact = re.compile(f"^{re.escape(name)}$")
        expect(where.locator("option", has_text=exact)).to_have_count(1)
    where.select_option("IE")
    page.get_by_label("E-mail address").fill("aoife.request@example.ie")
    page.get_by_label(re.compile(r"^Full name")).fill("Aoife Byrne")
    page.get_by_role("button", name="Send request").click()
    expect(page).to_have_url(re.compile("/status/"))
    with live_rightful.runtime.sessions() as session:
        req = session.scalars(select(RightsRequest)).one()
        assert req.jurisdiction == "IE"
        assert (req.respond_due - req.received_at.date()).days in range(28, 35)
