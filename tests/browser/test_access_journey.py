"""A consumer asks for a copy of their information in a real browser, and gets it.

Chromium drives the privacy center and the admin console of a live server; codes and links
come from the e-mails the real SMTP server received. Every page visited also passes a small
accessibility smoke check.
"""

from __future__ import annotations

import json
import re
import sqlite3
import time
import zipfile
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.support.app import code_from, link_from
from tests.support.live import LiveRightful
from tests.support.services import SmtpTestServer

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Locator, Page
    from playwright.sync_api._generated import LocatorAssertions

pytestmark = pytest.mark.browser

AVERY = "avery.quinn@example.com"
REFERENCE = re.compile(r"\bR-[A-Z0-9]{8}\b")
DOWNLOAD_READY_WITHIN_S = 20.0
QUIET_PERIOD_S = 3.0  # longer than the embedded worker's 2 s poll, so queued mail would go out

# Runs in the page: lang, title, one h1, every control labelled and its descriptions present,
# targets of at least 24 px (WCAG 2.5.8; a radio's target is its whole label).
_A11Y_PROBLEMS = """() => {
  const problems = [];
  const show = (el) => el.outerHTML.slice(0, 90);
  if (!document.documentElement.lang) problems.push('<html> has no lang');
  if (!document.title.trim()) problems.push('the page has no title');
  const h1s = document.querySelectorAll('h1').length;
  if (h1s !== 1) problems.push(`${h1s} h1 elements`);
  for (const el of document.querySelectorAll('input:not([type=hidden]), select, textarea')) {
    if (!el.labels.length && !el.getAttribute('aria-label')) problems.push(`no label: ${show(el)}`);
    for (const id of (el.getAttribute('aria-describedby') || '').split(/\\s+/).filter(Boolean)) {
      if (!document.getElementById(id)) problems.push(`no element #${id} describes ${show(el)}`);
    }
    const target = ['radio', 'checkbox'].includes(el.type) ? el.labels[0] || el : el;
    const box = target.getBoundingClientRect();
    const small = box.height < 24 || box.width < 24;
    // A hidden part of the form is not a target (no layout box).
    if (small && target.getClientRects().length) problems.push(`target under 24px: ${show(el)}`);
  }
  for (const el of document.querySelectorAll('button, a[href]')) {
    const named = el.textContent.trim() || el.getAttribute('aria-label');
    if (!named) problems.push(`no accessible name: ${show(el)}`);
  }
  for (const el of document.querySelectorAll('button, .button')) {
    if (el.getBoundingClientRect().height < 24) problems.push(`target under 24px: ${show(el)}`);
  }
  return problems;
}"""


def expect(locator: Locator) -> LocatorAssertions:
    """Playwright's waiting assertions, imported late as the browser fixture imports Playwright."""
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(locator)


def heading(page: Page) -> Locator:
    """The page's main heading."""
    return page.get_by_role("heading", level=1)


def assert_accessible_basics(page: Page) -> None:
    """The cheap automated part of WCAG 2.2 AA: lang, one h1, labels, target sizes."""
    page.wait_for_load_state()
    problems = page.evaluate(_A11Y_PROBLEMS)
    assert problems == [], f"{page.url}: {problems}"


# --- what people do -------------------------------------------------------------------------


def ask_for_a_copy(page: Page, live: LiveRightful) -> None:
    """From the home page, fill in and send Avery's request for a copy of her information."""
    page.goto(live.url("/"))
    assert_accessible_basics(page)
    page.get_by_role("main").get_by_role("link", name="Make a request").click()
    expect(heading(page)).to_have_text("Make a privacy request")
    assert_accessible_basics(page)
    page.get_by_label("Get a copy of my personal information").check()
    page.get_by_label("E-mail address").fill(AVERY)
    page.get_by_label("Phone number").fill("(415) 555-0134")
    page.get_by_label(re.compile(r"^Full name")).fill("Avery Quinn")
    page.get_by_label("ZIP code").fill("94107")
    page.get_by_label("Everything since January 1, 2022").check()
    page.get_by_label("Type your full name to sign").fill("Avery Quinn")
    page.get_by_role("button", name="Send request").click()
    expect(page.get_by_label("6-digit code")).to_be_visible()


def emailed_code(smtp_server: SmtpTestServer) -> str:
    """The code in the acknowledgement e-mail that reached Avery's inbox."""
    return code_from(smtp_server.wait_for(AVERY, subject_contains="received"))


def enter_code(page: Page, code: str) -> None:
    """Type a code into the status page's form and confirm it."""
    page.get_by_label("6-digit code").fill(code)
    page.get_by_role("button", name="Confirm").click()
    page.wait_for_load_state()


def reference_on(page: Page) -> str:
    """The request's reference as the status page shows it."""
    found = REFERENCE.search(page.get_by_role("main").inner_text())
    assert found, "the status page shows no reference"
    return found.group(0)


@contextmanager
def staff_console(browser: Browser, live: LiveRightful) -> Iterator[Page]:
    """A privacy officer, signed in in a browser of their own, looking at the requests list."""
    context = browser.new_context()
    try:
        staff = context.new_page()
        staff.goto(live.url("/admin/login"))
        assert_accessible_basics(staff)
        staff.get_by_label("E-mail").fill(live.staff_email)
        staff.get_by_label("Password").fill(live.staff_password)
        staff.get_by_role("button", name="Sign in").click()
        expect(heading(staff)).to_have_text("Today")  # the morning view comes first
        staff.get_by_role("link", name="Requests", exact=True).click()
        expect(heading(staff)).to_have_text("Rights requests")
        assert_accessible_basics(staff)
        yield staff
    finally:
        context.close()


def staff_approves(browser: Browser, live: LiveRightful, reference: str) -> None:
    """A privacy officer opens the request from the list and approves it."""
    with staff_console(browser, live) as staff:
        staff.get_by_role("link", name=reference).click()
        expect(heading(staff)).to_contain_text(reference)
        assert_accessible_basics(staff)
        staff.get_by_role("button", name="Approve and run").click()
        expect(staff.get_by_role("button", name="Approve and run")).to_have_count(0)


def wait_for_download_link(page: Page) -> Locator:
    """Reload the status page until it offers the download (waiting, not timing)."""
    deadline = time.monotonic() + DOWNLOAD_READY_WITHIN_S
    link = page.get_by_role("link", name="Download your information")
    while link.count() == 0:
        assert time.monotonic() < deadline, (
            f"no download after {DOWNLOAD_READY_WITHIN_S}s; the page says "
            f"{heading(page).inner_text()!r}"
        )
        page.wait_for_timeout(500)
        page.reload()
    return link


# --- what the package holds -------------------------------------------------------------------


def avery_secrets(live: LiveRightful) -> tuple[str, str]:
    """Avery's password hash and security answer, read straight from the demo storefront."""
    path = live.runtime.settings.data_dir / "estate" / "storefront.db"
    with closing(sqlite3.connect(path)) as db:
        query = "SELECT password_hash, security_answer FROM customers WHERE id = 1"
        password_hash, answer = db.execute(query).fetchone()
    return str(password_hash), str(answer)


def collection_rows(data: dict[str, Any], collection: str) -> list[dict[str, Any]]:
    """Every row of a collection in data.json, whichever system holds it."""
    return [row for colls in data["data"].values() for row in colls.get(collection, [])]


def assert_package_holds_averys_information(package: Path, live: LiveRightful) -> None:
    """A readable page, JSON and CSV, saying secrets are held but never showing them."""
    with zipfile.ZipFile(package) as zf:
        files = {name: zf.read(name) for name in zf.namelist()}
    page = files["index.html"].decode()
    assert AVERY in page
    assert "Lumen Smart Thermostat" in page
    data = json.loads(files["data.json"])
    assert [row["email"] for row in collection_rows(data, "customers")] == [AVERY]
    assert any(re.fullmatch(r"csv/[^/]+/orders\.csv", name) for name in files), sorted(files)
    password_hash, security_answer = avery_secrets(live)
    for name, content in files.items():
        assert password_hash.encode() not in content, f"the password hash is in {name}"
        assert security_answer.encode() not in content, f"the security answer is in {name}"
    words = re.sub(r"<[^>]+>", "", page)
    assert "What we hold but do not show" in words
    assert "We hold your sign-in details: password, security question, answer to your" in words
    assert "We hold card data: last four digits of the card number, payment token" in words
    # The help desk and the newsletters, reached over their vendors' APIs.
    help_center, newsletter = data["data"]["Help center"], data["data"]["E-mail newsletters"]
    assert [t["subject"] for t in help_center["ticket"]] == ["Return label for an indoor cam"]
    assert [m["email_address"] for m in newsletter["member"]] == [AVERY]
    assert "Help-center questions" in words and "Newsletter subscription" in words


# --- the tests ------------------------------------------------------------------------------


@pytest.fixture
def vendors(live_rightful: LiveRightful) -> Iterator[str]:
    """The demo's help desk and newsletter vendors on loopback, connected over HTTP."""
    from rightful.demo.estate import demo_urls
    from rightful.demo.vendors import connect_vendors
    from rightful.demo.vendors.serve import serving_vendors

    data_dir = live_rightful.runtime.settings.data_dir
    with serving_vendors(data_dir) as url:
        connect_vendors(live_rightful.runtime, demo_urls(data_dir), base_url=url)
        yield url


def test_consumer_downloads_a_copy_of_their_information_after_staff_approval(
    page: Page,
    chromium_browser: Browser,
    live_rightful: LiveRightful,
    smtp_server: SmtpTestServer,
    tmp_path: Path,
    vendors: str,
) -> None:
    ask_for_a_copy(page, live_rightful)
    assert_accessible_basics(page)
    enter_code(page, emailed_code(smtp_server))
    expect(heading(page)).to_have_text("Under review by our privacy team")

    staff_approves(chromium_browser, live_rightful, reference_on(page))

    link = wait_for_download_link(page)
    assert_accessible_basics(page)
    with page.expect_download() as started:
        link.click()
    package = tmp_path / "from-status-page.zip"
    started.value.save_as(package)
    completed = smtp_server.wait_for(AVERY, subject_contains="complete")
    # Each page view signs a fresh link, so compare what the links give, not their text.
    from_email = page.request.get(link_from(completed, "/download/"))
    assert from_email.ok, from_email.status
    assert from_email.body() == package.read_bytes(), "the e-mail links to another package"
    assert_package_holds_averys_information(package, live_rightful)


def test_wrong_codes_are_refused_and_the_request_stays_unverified(
    page: Page, live_rightful: LiveRightful, smtp_server: SmtpTestServer
) -> None:
    ask_for_a_copy(page, live_rightful)
    wrong = f"{(int(emailed_code(smtp_server)) + 1) % 1_000_000:06d}"
    for _attempt in range(3):
        enter_code(page, wrong)
        expect(page.get_by_role("alert")).to_contain_text("code")
        expect(heading(page)).to_have_text("Waiting for identity check")
        expect(page.get_by_label("6-digit code")).to_have_attribute("aria-invalid", "true")
        assert_accessible_basics(page)
    page.reload()
    expect(heading(page)).to_have_text("Waiting for identity check")
    expect(page.get_by_label("6-digit code")).to_be_visible()


def test_a_tampered_status_link_shows_an_error_and_no_request_details(
    page: Page, live_rightful: LiveRightful
) -> None:
    ask_for_a_copy(page, live_rightful)
    reference = reference_on(page)
    payload, signature = page.url.rsplit("/status/", 1)[1].rsplit(".", 1)
    tampered = ("B" if signature[0] == "A" else "A") + signature[1:]

    answer = page.goto(live_rightful.url(f"/status/{payload}.{tampered}"))

    assert answer is not None and answer.status == 400
    text = page.get_by_role("main").inner_text()
    assert "This link is not valid" in text
    for detail in (reference, AVERY, "Avery", "Get a copy", "6-digit code", "answer by"):
        assert detail not in text
    assert_accessible_basics(page)


def test_an_invalid_form_is_shown_again_with_every_error_and_nothing_is_created(
    page: Page,
    chromium_browser: Browser,
    live_rightful: LiveRightful,
    smtp_server: SmtpTestServer,
) -> None:
    page.goto(live_rightful.url("/requests/new"))
    # Opened without ?type=, the form leaves the choice to the consumer, who makes none here.
    expect(page.locator("input[name=request_type]:checked")).to_have_count(0)
    page.get_by_label("E-mail address").fill("avery.quinn@")
    page.get_by_label(re.compile(r"^Full name")).fill("Avery Quinn")
    page.get_by_role("button", name="Send request").click()

    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("Choose what you would like us to do.")
    expect(summary).to_contain_text("valid e-mail address")
    expect(page.locator("#request_type-error")).to_be_visible()
    email = page.get_by_label("E-mail address")
    expect(email).to_have_attribute("aria-invalid", "true")
    expect(email).to_have_accessible_description(re.compile("valid e-mail address"))
    expect(email).to_have_value("avery.quinn@")
    expect(page.get_by_label(re.compile(r"^Full name"))).to_have_value("Avery Quinn")
    assert_accessible_basics(page)

    time.sleep(QUIET_PERIOD_S)
    assert smtp_server.messages == []
    with staff_console(chromium_browser, live_rightful) as staff:
        expect(staff.get_by_role("table")).to_have_count(0)
        expect(staff.get_by_role("main")).to_contain_text("No requests")
