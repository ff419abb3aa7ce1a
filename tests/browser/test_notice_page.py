"""In Chromium: the published privacy notice at /privacy (one h1, headings in order with unique
anchors, a table of contents whose links land on them, a print view with only the notice, the
basic accessibility checks on desktop and phone, the page chrome in Spanish) and the console's
Notice pages (versions with their check, and the changes between two versions)."""

from __future__ import annotations

import itertools
import tempfile
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from rightful.core.db import unit_of_work
from rightful.demo.setup import NOTICE, PAPER_ARCHIVE
from rightful.demo.vendors import data_map_files as vendor_files
from rightful.inventory import service as inventory
from rightful.notices import service
from rightful.security.permissions import system_actor
from tests.browser.test_access_journey import assert_accessible_basics
from tests.support.live import LiveRightful

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.browser
SHOTS = Path(tempfile.gettempdir()) / "rightful-notice-shots"  # to look at; never in the repo
OFFICER = system_actor("test")
HEADINGS = """() => [...document.querySelectorAll('main h1, main h2, main h3')].map(
  h => [Number(h.tagName[1]), h.id, h.textContent.trim()])"""
CONTENTS = """() => [...document.querySelectorAll('nav.notice-contents a')].map(
  a => [a.getAttribute('href'), !!document.getElementById(a.getAttribute('href').slice(1))])"""


def publish(
    live: LiveRightful, source: str, *, on: date, material: bool, summary: str = ""
) -> None:
    rt = live.runtime
    with unit_of_work(rt.sessions) as session:
        service.draft(session, rt.settings, source=source, actor=OFFICER)
        service.publish(
            session, rt.settings, actor=OFFICER, material=material, summary=summary, effective_on=on
        )


@pytest.fixture
def lumen(live_rightful: LiveRightful) -> LiveRightful:
    """The whole demo data map (vendors and the paper archive) and Lumen's notice published."""
    with unit_of_work(live_rightful.runtime.sessions) as session:
        files = [*vendor_files(), (PAPER_ARCHIVE.name, PAPER_ARCHIVE.read_text())]
        inventory.apply_files(session, files=files, actor=OFFICER)
    publish(live_rightful, NOTICE.read_text(), on=date(2026, 1, 1), material=True)
    return live_rightful


def test_the_notice_has_ordered_headings_anchors_contents_and_a_print_view(
    page: Page, lumen: LiveRightful
) -> None:
    from playwright.sync_api import expect

    page.goto(lumen.url("/"))
    page.get_by_role("link", name="Privacy notice").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Lumen Devices privacy notice")
    expect(page.get_by_role("main")).to_contain_text("Last updated January 1, 2026")
    headings = page.evaluate(HEADINGS)
    levels = [h[0] for h in headings]
    assert levels[0] == 1 and levels.count(1) == 1
    assert all(b - a <= 1 for a, b in itertools.pairwise(levels)), headings  # no skips
    ids = [h[1] for h in headings]
    assert all(ids) and len(set(ids)) == len(ids), ids
    links = page.evaluate(CONTENTS)
    assert len(links) >= 9 and all(found for _, found in links), links
    page.get_by_role("navigation", name="Contents").get_by_role(
        "link", name="How long we keep it"
    ).click()
    expect(page).to_have_url(lumen.url("/privacy#how-long-we-keep-it"))
    expect(page.locator("#how-long-we-keep-it")).to_be_in_viewport()
    assert_accessible_basics(page)
    SHOTS.mkdir(exist_ok=True)
    page.goto(lumen.url("/privacy"))
    page.screenshot(path=str(SHOTS / "notice-desktop.png"), full_page=True)
    page.emulate_media(media="print")
    expect(page.locator("header.site")).to_be_hidden()
    expect(page.locator("nav.notice-contents")).to_be_hidden()
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    expect(page.get_by_role("heading", name="How long we keep it")).to_be_visible()
    page.screenshot(path=str(SHOTS / "notice-print.png"), full_page=True)
    page.emulate_media(media="screen")
    page.set_viewport_size({"width": 390, "height": 844})
    assert_accessible_basics(page)
    # The notice's tables fit a phone: no sideways scrolling (WCAG 1.4.10, reflow).
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(SHOTS / "notice-phone.png"), full_page=True)


def test_the_notice_page_speaks_spanish_around_an_english_notice(
    page: Page, lumen: LiveRightful
) -> None:
    from playwright.sync_api import expect

    page.goto(lumen.url("/privacy"))
    page.get_by_role("button", name="Español").click()
    expect(page.get_by_role("heading", name="Contenido")).to_be_visible()
    expect(page.get_by_role("main")).to_contain_text("Este aviso solo está disponible en inglés.")
    assert page.locator("html").get_attribute("lang") == "es"
    assert page.locator("article.notice-body").get_attribute("lang") == "en"
    assert_accessible_basics(page)


def test_staff_see_each_version_checked_and_what_changed_between_two(
    page: Page, lumen: LiveRightful
) -> None:
    from playwright.sync_api import expect

    source = NOTICE.read_text().replace("for 30 days", "for 60 days")
    publish(lumen, source, on=date(2026, 2, 1), material=True, summary="Banner for 60 days.")
    page.goto(lumen.url("/"))
    expect(page.get_by_role("region", name="Privacy notice update")).to_contain_text(
        "We updated our privacy notice on February 1, 2026"
    )
    page.goto(lumen.url("/admin/login"))
    page.get_by_label("E-mail").fill(lumen.staff_email)
    page.get_by_label("Password").fill(lumen.staff_password)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("link", name="Notice", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Privacy notice")
    expect(page.get_by_role("row", name="Version 2")).to_contain_text("True to the data map")
    expect(page.get_by_role("row", name="Version 1")).to_contain_text("Replaced")
    assert_accessible_basics(page)
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "console-notices.png"), full_page=True)
    page.get_by_role("button", name="Show the changes").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Changes from version 1 to version 2")
    expect(page.locator("del.diff-del")).to_contain_text("for 30 days")
    expect(page.locator("ins.diff-add")).to_contain_text("for 60 days")
    assert_accessible_basics(page)
    page.screenshot(path=str(SHOTS / "console-diff.png"), full_page=True)
