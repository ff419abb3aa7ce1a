"""The package's readable page, opened from the zip in Chromium as a person would: on a laptop
and on a phone, with JavaScript off."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from rightful.connectors.sql import dispose_all
from rightful.core import clock
from tests.integration.rights.test_package_contents import TODAY, averys_package
from tests.support.app import make_settings, prepare

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = pytest.mark.browser

LAPTOP, PHONE = 1280, 390

# Runs in the page: headings that skip no level, tables whose headers have a scope, links to
# parts of the page that exist, and text whose contrast with its background is at least 4.5:1.
_PROBLEMS = """() => {
  const problems = [];
  let level = 0;
  for (const h of document.querySelectorAll('h1, h2, h3, h4, h5, h6')) {
    const next = Number(h.tagName[1]);
    if (next > level + 1) problems.push(`${h.tagName} "${h.textContent}" skips a level`);
    level = next;
  }
  for (const th of document.querySelectorAll('th')) {
    if (!th.getAttribute('scope')) problems.push(`th without scope: ${th.textContent}`);
  }
  for (const table of document.querySelectorAll('table')) {
    const named = table.querySelector('caption') || table.getAttribute('aria-labelledby');
    if (!named) problems.push(`a table without a name: ${table.textContent.slice(0, 40)}`);
  }
  for (const a of document.querySelectorAll('a[href^="#"]')) {
    if (!document.getElementById(a.getAttribute('href').slice(1))) {
      problems.push(`link to a missing part: ${a.getAttribute('href')}`);
    }
  }
  const rgb = (c) => c.match(/[\\d.]+/g).map(Number);
  const lum = ([r, g, b]) => [r, g, b].map((v) => {
    v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
  }).reduce((s, v, i) => s + v * [0.2126, 0.7152, 0.0722][i], 0);
  const background = (el) => {
    for (; el; el = el.parentElement) {
      const c = getComputedStyle(el).backgroundColor;
      if (rgb(c).length < 4 || rgb(c)[3] > 0) return rgb(c);
    }
    return [255, 255, 255];
  };
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const el = node.parentElement;
    if (!node.textContent.trim() || !el.getClientRects().length) continue;
    const [a, b] = [lum(rgb(getComputedStyle(el).color)), lum(background(el))];
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    if (ratio < 4.5) problems.push(`contrast ${ratio.toFixed(2)}: ${node.textContent.trim()}`);
  }
  return problems;
}"""


@pytest.fixture(scope="module")
def package_page(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Avery's package from the README's tour, unpacked."""
    folder = tmp_path_factory.mktemp("package")
    clock.freeze(TODAY)
    runtime = prepare(make_settings(folder / "app"), people=20)
    try:
        package = averys_package(runtime)
    finally:
        clock.freeze(None)
        runtime.engine.dispose()
        dispose_all()
    index = folder / "index.html"
    index.write_bytes(package.files["index.html"])
    yield index


@pytest.fixture(params=[LAPTOP, PHONE], ids=["laptop", "phone"])
def reader(request: pytest.FixtureRequest, chromium_browser: Browser) -> Iterator[Page]:
    """A browser window of the given width with JavaScript switched off."""
    context = chromium_browser.new_context(
        viewport={"width": request.param, "height": 900}, java_script_enabled=False
    )
    try:
        yield context.new_page()
    finally:
        context.close()


def open_page(reader: Page, index: Path) -> str:
    reader.goto(index.as_uri())
    return reader.locator("body").inner_text()


def test_the_page_reads_as_records_a_person_recognises(reader: Page, package_page: Path) -> None:
    text = open_page(reader, package_page)
    contents = reader.get_by_role("navigation", name="Contents").inner_text()
    for section in ("Your account", "Addresses", "Orders", "Saved cards", "Support conversations"):
        assert section in contents
    orders = reader.locator("#s-storefront-orders")
    assert orders.get_by_role("heading", level=3).all_inner_texts() == [
        "Order placed August 13, 2023",
        "Order placed February 18, 2026",
        "Order placed October 5, 2026",
    ]
    first = orders.get_by_role("table").first
    cells = first.get_by_role("row").nth(1).get_by_role("cell").all_inner_texts()
    assert cells == ["Lumen Hub (2nd gen)", "1", "$129.00"]
    assert "4 recorded, from February 23, 2026 to November 13, 2026." in text
    assert re.search(r"We hold card data: last four digits of the card number", text)
    for internal in ("Argon2", "ISO 3166", "E.164", "customer_id", "order_id", "tok_"):
        assert internal not in text


def test_the_contents_lead_to_their_sections(reader: Page, package_page: Path) -> None:
    open_page(reader, package_page)
    contents = reader.get_by_role("navigation", name="Contents")
    contents.get_by_role("link", name="Support conversations").click()
    assert reader.url.endswith("#s-support_desk-support_tickets")
    assert reader.locator("#s-support_desk-support_tickets").is_visible()


def test_the_page_fits_the_window_and_passes_the_automated_checks(
    reader: Page, package_page: Path
) -> None:
    open_page(reader, package_page)
    width = reader.viewport_size["width"] if reader.viewport_size else LAPTOP
    assert reader.evaluate("document.documentElement.scrollWidth") <= width
    assert reader.get_by_role("heading", level=1).count() == 1
    # Evaluated with JavaScript off for the page: Playwright's evaluate runs in its own world.
    assert reader.evaluate(_PROBLEMS) == []
