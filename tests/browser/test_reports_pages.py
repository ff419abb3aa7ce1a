"""In Chromium: the public yearly metrics page (headings, table semantics, the print view, the
accessibility basics) and the console's morning view, with screenshots in
/tmp/rightful-reports-shots for a person to look at."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from rightful.core.db import unit_of_work
from tests.browser.test_access_journey import assert_accessible_basics, expect, heading
from tests.integration.reports.seed import seed_year
from tests.support.live import LiveRightful

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.browser
SHOTS = Path(tempfile.gettempdir()) / "rightful-reports-shots"  # to look at; never in the repo

# Runs in the page: every table has a caption, column headers with scope, and row headers.
_TABLE_PROBLEMS = """() => {
  const problems = [];
  for (const t of document.querySelectorAll('main table')) {
    const name = (t.caption && t.caption.textContent.trim()) || '(no caption)';
    if (name === '(no caption)') problems.push('a table without a caption');
    if (!t.tHead || t.tHead.querySelectorAll('th[scope=col]').length < 2)
      problems.push(`${name}: no column headers`);
    for (const row of t.tBodies[0].rows)
      if (!row.querySelector('th[scope=row]')) problems.push(`${name}: a row without a header`);
  }
  return problems;
}"""


def _seed(live: LiveRightful) -> None:
    with unit_of_work(live.runtime.sessions) as session:
        seed_year(session, live.runtime.settings)


def _shot(page: Page, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_the_metrics_page_reads_as_tables_with_captions_and_prints_cleanly(
    page: Page, live_rightful: LiveRightful
) -> None:
    _seed(live_rightful)
    page.goto(live_rightful.url("/privacy/metrics/2025"))
    expect(heading(page)).to_have_text("Privacy requests in 2025")
    assert_accessible_basics(page)
    assert page.evaluate(_TABLE_PROBLEMS) == []
    answers = page.get_by_role("table", name=re.compile("^Requests received in 2025 from"))
    expect(answers.get_by_role("columnheader")).to_have_count(8)
    delete = answers.get_by_role("row", name=re.compile("^Requests to delete"))
    expect(delete.get_by_role("cell")).to_have_text(["5", "1", "3", "0", "1", "13.0", "27.5"])
    subheads = page.get_by_role("heading", level=2)
    expect(subheads).to_have_text(
        [
            "Requests and answers",
            "Why requests were denied",
            "How we count",
            "Appeals, by state",
            "More",
        ]
    )
    _shot(page, "metrics-desktop")
    page.set_viewport_size({"width": 390, "height": 844})
    _shot(page, "metrics-phone")
    page.screenshot(path=str(SHOTS / "metrics-phone-top.png"))
    page.set_viewport_size({"width": 1280, "height": 900})
    page.emulate_media(media="print")
    expect(page.get_by_role("navigation", name="Main")).to_be_hidden()
    expect(page.get_by_role("navigation", name="More figures")).to_be_hidden()
    expect(answers).to_be_visible()
    _shot(page, "metrics-print")
    page.pdf(path=str(SHOTS / "metrics.pdf"))


def test_everyone_s_figures_are_one_link_away_and_say_so(
    page: Page, live_rightful: LiveRightful
) -> None:
    _seed(live_rightful)
    page.goto(live_rightful.url("/privacy/metrics/2025"))
    page.get_by_role("link", name="2025: everyone, wherever they live").click()
    expect(
        page.get_by_text("These figures count every request, wherever the person lives")
    ).to_be_visible()
    delete = page.get_by_role("row", name=re.compile("^Requests to delete"))
    expect(delete.get_by_role("cell").first).to_have_text("6")


def test_the_morning_view_leads_to_the_requests_behind_a_count(
    page: Page, live_rightful: LiveRightful
) -> None:
    _seed(live_rightful)
    page.goto(live_rightful.url("/admin/login"))
    page.get_by_label("E-mail").fill(live_rightful.staff_email)
    page.get_by_label("Password").fill(live_rightful.staff_password)
    page.get_by_role("button", name="Sign in").click()
    expect(heading(page)).to_have_text("Today")  # the first page after signing in
    assert_accessible_basics(page)
    assert page.evaluate(_TABLE_PROBLEMS) == []
    _shot(page, "today-desktop")
    page.set_viewport_size({"width": 390, "height": 844})
    _shot(page, "today-phone")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.get_by_role("link", name=re.compile(r"^1 overdue in California")).click()
    expect(heading(page)).to_have_text("Overdue requests: California")
    assert_accessible_basics(page)
    expect(page.get_by_role("row")).to_have_count(2)  # the header and D5, the open deletion
    _shot(page, "today-overdue-list")
