"""In a real browser, the request form shows the signed declaration only where the place
chosen needs it for the request chosen: California's law requires it, the GDPR does not.
Screenshots go to /tmp."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select

from rightful.rights.models import RightsRequest
from tests.browser.test_access_journey import AVERY, assert_accessible_basics, expect
from tests.support.live import LiveRightful

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.browser

SHOTS = Path(tempfile.gettempdir()) / "rightful-declaration-shots"  # to look at; never in the repo


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_the_declaration_is_hidden_for_ireland_and_shown_for_california(
    page: Page, live_rightful: LiveRightful
) -> None:
    page.goto(live_rightful.url("/requests/new"))
    page.get_by_label("Get a copy of my personal information").check()
    page.get_by_label("E-mail address").fill(AVERY)
    page.get_by_label(re.compile(r"^Full name")).fill("Avery Quinn")
    page.get_by_label("ZIP code").fill("94107")
    page.get_by_label("Phone number").fill("(415) 555-0134")
    place = page.get_by_label("State or country where you live")
    declaration = page.get_by_role("group", name="Declaration")
    signature = page.get_by_label("Type your full name to sign")
    # The form starts in California: its law requires the declaration for a copy.
    expect(declaration).to_be_visible()
    expect(page.locator("blockquote.declaration")).to_contain_text(
        "under the laws of the State of California"
    )
    shot(page, "01-california-copy")
    place.select_option(label="Ireland")
    expect(declaration).to_be_hidden()
    expect(signature).to_be_disabled()
    assert_accessible_basics(page)
    shot(page, "02-ireland-copy")
    # Back to California: shown again, naming California's law.
    place.select_option(label="California")
    expect(declaration).to_be_visible()
    expect(signature).to_be_enabled()
    # A deletion needs none, even in California.
    page.get_by_label("Delete my personal information").check()
    expect(declaration).to_be_hidden()
    page.get_by_label("Get a copy of my personal information").check()
    expect(declaration).to_be_visible()
    # An Irish copy is sent without signing anything and is kept without a declaration.
    place.select_option(label="Ireland")
    page.get_by_role("button", name="Send request").click()
    expect(page.get_by_label("6-digit code")).to_be_visible()
    with live_rightful.runtime.sessions() as session:
        row = session.execute(select(RightsRequest.jurisdiction, RightsRequest.declaration)).one()
    assert tuple(row) == ("IE", None)


def test_on_a_phone_the_californian_declaration_reads_well(
    page: Page, live_rightful: LiveRightful
) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(live_rightful.url("/requests/new?type=access"))
    expect(page.get_by_role("group", name="Declaration")).to_be_visible()
    page.get_by_label("State or country where you live").select_option(label="Texas")
    expect(page.locator("blockquote.declaration")).to_contain_text("State of Texas")
    shot(page, "03-texas-copy-phone")
    page.get_by_label("State or country where you live").select_option(label="Germany")
    expect(page.get_by_role("group", name="Declaration")).to_be_hidden()
    shot(page, "04-germany-copy-phone")


def test_staff_see_the_rule_per_law_and_keep_their_choice_on_a_case(
    page: Page, live_rightful: LiveRightful
) -> None:
    from rightful.casework.service import Incoming, open_case
    from rightful.casework.types import Kind
    from rightful.core.db import unit_of_work

    page.goto(live_rightful.url("/admin/login"))
    page.get_by_label("E-mail").fill(live_rightful.staff_email)
    page.get_by_label("Password").fill(live_rightful.staff_password)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("link", name="Laws", exact=True).click()
    california = page.locator("section", has=page.locator("#pack-us-ca"))
    row = california.get_by_role("row", name=re.compile("Signed declaration for a copy"))
    expect(row).to_contain_text("Required")
    expect(row).to_contain_text("Cal. Code Regs. tit. 11, § 7062(c)")
    gdpr = page.locator("section", has=page.locator("#pack-gdpr"))
    expect(gdpr.get_by_role("row", name=re.compile("Signed declaration"))).to_contain_text(
        "Not asked"
    )
    page.locator("#pack-us-ca").scroll_into_view_if_needed()
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "05-laws-california.png"))  # the part on screen
    with unit_of_work(live_rightful.runtime.sessions) as session:
        case_id = open_case(
            session,
            live_rightful.runtime.settings,
            Incoming(email=AVERY, text="Please send me a copy of my data."),
            kind=Kind.REQUEST,
            channel="email",
            actor="mailbox",
            suggested_type="access",
            language="en",
        ).id
    page.goto(live_rightful.url(f"/admin/cases/{case_id}"))
    page.get_by_label("Where they live").select_option(label="Texas")
    page.get_by_role("button", name="Open the request").click()
    expect(page.get_by_role("main")).to_contain_text("own signed declaration")
    expect(page.get_by_label("Where they live")).to_have_value("US-TX")
    shot(page, "06-case-refused-keeps-texas")
    # Ireland: opened at once, no declaration to wait for.
    page.get_by_label("Where they live").select_option(label="Ireland")
    page.get_by_role("button", name="Open the request").click()
    expect(page.get_by_role("main")).not_to_contain_text("own signed declaration")
    with live_rightful.runtime.sessions() as session:
        assert session.scalar(select(RightsRequest.jurisdiction)) == "IE"
