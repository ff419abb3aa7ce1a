"""In Chromium: the console's DROP page shows the 45-day clock, the latest list in counts and
the lines that could not be read; it passes the basic accessibility checks, desktop and phone."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select

from rightful.core.clock import utcnow
from rightful.core.db import unit_of_work
from rightful.drop import service
from rightful.drop.hashing import ListType, list_hash
from rightful.rights.models import RightsRequest
from rightful.security.permissions import system_actor
from tests.browser.test_access_journey import assert_accessible_basics
from tests.support.live import LiveRightful

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.browser
SHOTS = Path(tempfile.gettempdir()) / "rightful-drop-shots"  # to look at; never in the repo


def test_staff_read_the_drop_clock_and_the_latest_list(
    page: Page, live_rightful: LiveRightful, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    listed = tmp_path / f"{utcnow():%Y%m%d}_4821_Email.csv"  # downloaded today
    listed.write_text(
        "ID,Hash\n"
        f"A7kP2xQ9Lm4R,{list_hash(ListType.EMAIL, {'email': 'avery.quinn@example.com'})}\n"
        f"B7kP2xQ9Lm4R,{list_hash(ListType.EMAIL, {'email': 'nobody@example.org'})}\n"
        "C7kP2xQ9Lm4R,not-a-hash\n"
    )
    rt = live_rightful.runtime
    with unit_of_work(rt.sessions) as session:
        service.import_list(session, rt.settings, path=listed, actor=system_actor("test"))
    page.goto(live_rightful.url("/admin/login"))
    page.get_by_label("E-mail").fill(live_rightful.staff_email)
    page.get_by_label("Password").fill(live_rightful.staff_password)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("link", name="DROP", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("California DROP")
    expect(page.locator("#clock")).to_contain_text("45 days left")
    cycle = page.locator("#cycle")
    expect(cycle.get_by_role("row", name="Not found 1")).to_be_visible()
    expect(cycle.get_by_role("row", name="Waiting 1")).to_be_visible()
    expect(page.locator("#problems")).to_contain_text("the Hash is not a Base64 SHA-256")
    assert "avery" not in page.content().lower()  # counts only: nobody is named
    assert_accessible_basics(page)
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "drop-desktop.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    assert_accessible_basics(page)
    page.screenshot(path=str(SHOTS / "drop-phone.png"), full_page=True)
    with rt.sessions() as session:
        request_id = session.scalars(
            select(RightsRequest.id).where(RightsRequest.channel == "drop")
        ).one()
    page.goto(live_rightful.url(f"/admin/requests/{request_id}"))
    expect(page.locator("p.lead")).to_contain_text("from California's DROP list")
