"""The cookie banner in a real Chromium, on a company site of its own origin.

A tiny HTTP server on loopback plays the company's shop: it loads consent.js from a live
Rightful and holds back an advertising script and pixel with data-category="targeting". What
the visitor chooses must decide what runs, and must land in Rightful's consent ledger.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

import pytest
from sqlalchemy import select

from rightful.consent import subjects
from rightful.consent.models import ConsentEvent
from tests.support.live import LiveRightful

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Locator, Page
    from playwright.sync_api._generated import LocatorAssertions

pytestmark = pytest.mark.browser

SHOP_PAGE = """<!doctype html>
<html lang="{lang}">
<head>
  <meta charset="utf-8">
  <title>Lumen shop</title>
  <script async src="{rightful}/consent.js" data-jurisdiction="{jurisdiction}"{data_lang}></script>
  <script type="text/plain" data-category="targeting">
    window.__targeting = true;
    document.cookie = "_bright_id=abc123; Path=/";
    document.cookie = "_bright_seg_home=lights; Path=/";
  </script>
</head>
<body>
  <h1>Lumen shop</h1>
  <p>Smart lights for every room.</p>
  <img data-src="/pixel.gif" data-category="targeting" alt="">
  <footer>
    <a href="#" data-rightful-open>Cookie settings</a>
    <span data-rightful-gpc hidden></span>
  </footer>
</body>
</html>
"""
GIF = bytes.fromhex(
    "47494638396101000100800000000000ffffff21f90401000000002c00000000010001000002024401003b"
)
GPC_HEADERS = {"Sec-GPC": "1"}
GPC_IN_PAGE = (
    "Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', {get: () => true});"
)


@dataclass
class Shop:
    """The company's site: its address, and the pixel requests it received."""

    base_url: str
    pixel_hits: list[str] = field(default_factory=list)

    def url(self, jurisdiction: str, *, lang: str = "en", data_lang: str = "") -> str:
        """The home page, as shown to a visitor from `jurisdiction`; in `lang` (`<html lang>`),
        with consent.js told `data_lang` when given."""
        query = urlencode({"jurisdiction": jurisdiction, "lang": lang, "data_lang": data_lang})
        return f"{self.base_url}/?{query}"


@pytest.fixture
def shop(live_rightful: LiveRightful) -> Iterator[Shop]:
    """The company's shop on its own loopback port (another origin than Rightful)."""
    state = Shop("")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            url = urlsplit(self.path)
            if url.path == "/pixel.gif":
                state.pixel_hits.append(url.path)
                self._answer(GIF, "image/gif")
                return
            query = parse_qs(url.query, keep_blank_values=True)
            data_lang = query.get("data_lang", [""])[0]
            page = SHOP_PAGE.format(
                rightful=live_rightful.base_url,
                jurisdiction=query.get("jurisdiction", ["US-CA"])[0],
                lang=query.get("lang", ["en"])[0],
                data_lang=f' data-lang="{data_lang}"' if data_lang else "",
            )
            self._answer(page.encode(), "text/html; charset=utf-8")

        def _answer(self, body: bytes, content_type: str) -> None:
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass  # keep test output quiet

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, name="shop", daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture
def gpc_page(chromium_browser: Browser) -> Iterator[Page]:
    """A browser that sends Global Privacy Control: the header and the page property."""
    context = chromium_browser.new_context(extra_http_headers=GPC_HEADERS)
    context.add_init_script(GPC_IN_PAGE)
    try:
        yield context.new_page()
    finally:
        context.close()


def expect(locator: Locator) -> LocatorAssertions:
    """Playwright's waiting assertions, imported late as the browser fixture imports Playwright."""
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(locator)


def banner(page: Page) -> Locator:
    """The banner, found as a screen reader finds it: a region named by its heading."""
    return page.get_by_role("region", name="Cookies on this site").or_(
        page.get_by_role("region", name="Your privacy choices")
    )


def click_and_record(page: Page, name: str) -> None:
    """Click a banner button and wait until Rightful has answered the choice it posts."""
    with page.expect_response(lambda r: r.url.endswith("/consent/events")) as answer:
        page.get_by_role("button", name=name, exact=True).click()
    assert answer.value.status == 200, answer.value.text()


def targeting_ran(page: Page) -> bool:
    """Whether the held-back advertising script has run in this page."""
    return bool(page.evaluate("window.__targeting === true"))


def started(page: Page) -> dict[str, bool]:
    """Once consent.js has applied the stored choices: is targeting allowed, did its script run?"""
    page.wait_for_function("window.RightfulConsent !== undefined")
    return dict(
        page.evaluate(
            """RightfulConsent.ready.then(allowed => ({
                "targeting": allowed.targeting, "script ran": window.__targeting === true}))"""
        )
    )


def device_id(context: BrowserContext) -> str:
    """The random id consent.js keeps in a first-party cookie on the shop."""
    return next(c["value"] for c in context.cookies() if c["name"] == "rf_consent_id")


def ledger(live: LiveRightful, device: str) -> dict[str, tuple[str, str]]:
    """purpose → (state, interface) of the browser's latest choices."""
    with live.runtime.sessions() as session:
        subject = subjects.resolve(session, live.runtime.settings, device_id=device, create=False)
        assert subject is not None, "the browser has no consent record"
        stmt = select(ConsentEvent).where(ConsentEvent.subject_id == subject.id)
        return {e.purpose: (e.state, e.interface) for e in session.scalars(stmt.order_by("id"))}


def notice_versions(live: LiveRightful, device: str) -> set[str]:
    with live.runtime.sessions() as session:
        subject = subjects.resolve(session, live.runtime.settings, device_id=device, create=False)
        assert subject is not None
        stmt = select(ConsentEvent.notice_version).where(ConsentEvent.subject_id == subject.id)
        return set(session.scalars(stmt))


def shop_cookies(context: BrowserContext) -> set[str]:
    return {c["name"] for c in context.cookies()}


# --- tests ------------------------------------------------------------------------------------


def test_targeting_script_stays_inert_until_accept_all_then_runs(
    page: Page, shop: Shop, live_rightful: LiveRightful
) -> None:
    page.goto(shop.url("FR"))
    expect(banner(page)).to_be_visible()
    assert not targeting_ran(page)
    assert shop.pixel_hits == []

    click_and_record(page, "Accept all")

    expect(banner(page)).to_be_hidden()
    assert targeting_ran(page)
    expect(page.locator("img[data-category=targeting]")).to_have_attribute("src", "/pixel.gif")
    device = device_id(page.context)
    assert ledger(live_rightful, device)["cookies.targeting"] == ("given", "banner")
    assert notice_versions(live_rightful, device) == {live_rightful.runtime.settings.notice_version}

    page.reload()  # the choice is remembered: no question, and the script runs at once
    assert started(page) == {"targeting": True, "script ran": True}
    expect(banner(page)).to_have_count(0)


def test_reject_all_keeps_the_targeting_script_inert(
    page: Page, shop: Shop, live_rightful: LiveRightful
) -> None:
    page.goto(shop.url("US-CA"))
    expect(banner(page)).to_be_visible()

    click_and_record(page, "Reject all")

    expect(banner(page)).to_be_hidden()
    assert not targeting_ran(page)
    recorded = ledger(live_rightful, device_id(page.context))
    assert recorded["cookies.targeting"] == ("withdrawn", "banner")
    assert recorded["sale_share"] == ("withdrawn", "banner")
    assert recorded["targeted_advertising"] == ("withdrawn", "banner")
    page.reload()
    assert started(page) == {"targeting": False, "script ran": False}
    expect(banner(page)).to_have_count(0)
    assert shop.pixel_hits == []


def test_withdrawing_targeting_removes_its_cookies_and_stops_its_script(
    page: Page, shop: Shop, live_rightful: LiveRightful
) -> None:
    page.goto(shop.url("FR"))
    click_and_record(page, "Accept all")
    assert {"_bright_id", "_bright_seg_home"} <= shop_cookies(page.context)

    page.get_by_role("link", name="Cookie settings").click()
    expect(banner(page)).to_be_focused()
    page.get_by_role("button", name="Choose").click()
    page.get_by_role("switch", name="Targeting").uncheck()
    with page.expect_navigation():  # scripts that already ran only stop on a fresh page
        click_and_record(page, "Save my choices")

    assert started(page) == {"targeting": False, "script ran": False}
    assert not {"_bright_id", "_bright_seg_home"} & shop_cookies(page.context)
    recorded = ledger(live_rightful, device_id(page.context))
    assert recorded["cookies.targeting"] == ("withdrawn", "banner")
    assert recorded["cookies.performance"] == ("given", "banner")


def test_gpc_opts_out_without_asking_and_says_so(
    gpc_page: Page, shop: Shop, live_rightful: LiveRightful
) -> None:
    with gpc_page.expect_response(lambda r: r.url.endswith("/consent/events")) as answer:
        gpc_page.goto(shop.url("US-CA"))
    assert answer.value.status == 200

    expect(gpc_page.get_by_text("Opt-out request honored").first).to_be_visible()
    gpc_page.get_by_role("button", name="Choose").click()
    expect(gpc_page.get_by_role("switch", name="Targeting")).to_be_disabled()
    expect(gpc_page.get_by_role("switch", name="Targeting")).not_to_be_checked()
    expect(
        gpc_page.get_by_role("switch", name="Selling or sharing my personal information")
    ).to_have_count(0)
    recorded = ledger(live_rightful, device_id(gpc_page.context))
    assert recorded["sale_share"] == ("withdrawn", "gpc")
    assert recorded["targeted_advertising"] == ("withdrawn", "gpc")
    assert recorded["cookies.targeting"] == ("withdrawn", "gpc")

    click_and_record(gpc_page, "Accept all")  # the rest may be accepted; targeting stays off
    assert not targeting_ran(gpc_page)
    expect(gpc_page.locator("footer [data-rightful-gpc]")).to_have_text("Opt-out request honored")


def test_the_banner_is_operable_with_the_keyboard_alone(
    page: Page, shop: Shop, live_rightful: LiveRightful
) -> None:
    page.goto(shop.url("FR"))
    expect(banner(page)).to_be_visible()
    reject = page.get_by_role("button", name="Reject all")
    for _ in range(5):  # the banner comes first in the tab order
        page.keyboard.press("Tab")
        if reject.evaluate("el => el.getRootNode().activeElement === el"):
            break
    expect(reject).to_be_focused()
    outline = reject.evaluate("el => getComputedStyle(el).outlineStyle")
    assert outline == "solid", "the focused button shows no focus ring"
    with page.expect_response(lambda r: r.url.endswith("/consent/events")):
        page.keyboard.press("Enter")
    expect(banner(page)).to_be_hidden()
    assert ledger(live_rightful, device_id(page.context))["cookies.targeting"] == (
        "withdrawn",
        "banner",
    )


@pytest.mark.parametrize(("width", "height"), [(1280, 800), (390, 844)], ids=["desktop", "phone"])
def test_reject_all_is_as_prominent_as_accept_all_and_fits_the_screen(
    chromium_browser: Browser, shop: Shop, tmp_path: Path, width: int, height: int
) -> None:
    context = chromium_browser.new_context(viewport={"width": width, "height": height})
    try:
        page = context.new_page()
        page.goto(shop.url("US-CA"))
        expect(banner(page)).to_be_visible()
        reject = page.get_by_role("button", name="Reject all")
        accept = page.get_by_role("button", name="Accept all")
        style = "el => [getComputedStyle(el).backgroundColor, getComputedStyle(el).color]"
        assert reject.evaluate(style) == accept.evaluate(style)
        reject_box, accept_box, banner_box = (
            reject.bounding_box(),
            accept.bounding_box(),
            banner(page).bounding_box(),
        )
        assert reject_box and accept_box and banner_box
        assert (reject_box["width"], reject_box["height"]) == (
            accept_box["width"],
            accept_box["height"],
        )
        assert reject_box["height"] >= 44  # a comfortable target (WCAG 2.5.8 asks 24)
        assert banner_box["x"] >= 0 and banner_box["x"] + banner_box["width"] <= width
        assert banner_box["y"] >= 0 and banner_box["y"] + banner_box["height"] <= height
        page.screenshot(path=tmp_path / f"banner-{width}.png")
    finally:
        context.close()


def test_a_banner_shown_before_the_notice_changed_asks_again(
    page: Page, shop: Shop, live_rightful: LiveRightful
) -> None:
    page.goto(shop.url("FR"))
    expect(banner(page)).to_be_visible()
    live_rightful.runtime.settings.notice_version = "2026-12-01"  # published while it was open

    with page.expect_response(lambda r: r.url.endswith("/consent/events")) as refused:
        page.get_by_role("button", name="Accept all").click()
    assert refused.value.status == 409
    expect(banner(page)).to_be_visible()  # asked again, under the new notice

    click_and_record(page, "Accept all")
    assert notice_versions(live_rightful, device_id(page.context)) == {"2026-12-01"}


# --- in the visitor's language --------------------------------------------------------------


def proofs(live: LiveRightful, device: str) -> list[dict[str, str]]:
    """The proof kept with each of the browser's recorded choices."""
    with live.runtime.sessions() as session:
        subject = subjects.resolve(session, live.runtime.settings, device_id=device, create=False)
        assert subject is not None, "the browser has no consent record"
        stmt = select(ConsentEvent.proof).where(ConsentEvent.subject_id == subject.id)
        return list(session.scalars(stmt))


@pytest.mark.parametrize(("width", "height"), [(1280, 800), (390, 844)], ids=["desktop", "phone"])
def test_a_spanish_page_shows_rechazar_todo_as_prominently_as_aceptar_todo(
    chromium_browser: Browser, shop: Shop, tmp_path: Path, width: int, height: int
) -> None:
    context = chromium_browser.new_context(viewport={"width": width, "height": height})
    try:
        page = context.new_page()
        page.goto(shop.url("US-CA", lang="es"))
        region = page.get_by_role("region", name="Sus opciones de privacidad")
        expect(region).to_be_visible()
        expect(region).to_have_attribute("lang", "es")
        expect(page.locator("rightful-consent")).to_have_attribute("lang", "es")
        reject = page.get_by_role("button", name="Rechazar todo", exact=True)
        accept = page.get_by_role("button", name="Aceptar todo", exact=True)
        look = """el => {const s = getComputedStyle(el);
            return [s.backgroundColor, s.color, s.fontSize, s.fontWeight, s.borderStyle]}"""
        assert reject.evaluate(look) == accept.evaluate(look)
        reject_box, accept_box, banner_box = (
            reject.bounding_box(),
            accept.bounding_box(),
            region.bounding_box(),
        )
        assert reject_box and accept_box and banner_box
        assert (reject_box["width"], reject_box["height"]) == (
            accept_box["width"],
            accept_box["height"],
        )
        assert reject_box["height"] >= 44
        assert banner_box["x"] >= 0 and banner_box["x"] + banner_box["width"] <= width
        assert banner_box["y"] >= 0 and banner_box["y"] + banner_box["height"] <= height
        page.get_by_role("button", name="Elegir").click()  # the longer Spanish switches fit too
        expect(page.get_by_role("switch", name="Publicidad dirigida")).to_be_visible()
        expect(page.get_by_role("switch", name="Estrictamente necesarias")).to_be_disabled()
        page.screenshot(path=tmp_path / f"banner-es-{width}.png")
    finally:
        context.close()


@pytest.mark.parametrize(
    ("lang", "data_lang", "locale"),
    [
        pytest.param("es", "", "en-US", id="html-lang"),
        pytest.param("", "", "es-MX", id="browser-language"),
        pytest.param("en", "es", "en-US", id="data-lang-wins"),
    ],
)
def test_the_banner_speaks_the_page_language_and_the_ledger_keeps_it(
    chromium_browser: Browser,
    shop: Shop,
    live_rightful: LiveRightful,
    lang: str,
    data_lang: str,
    locale: str,
) -> None:
    context = chromium_browser.new_context(locale=locale)
    try:
        page = context.new_page()
        page.goto(shop.url("FR", lang=lang, data_lang=data_lang))
        expect(page.get_by_role("region", name="Cookies en este sitio")).to_be_visible()

        click_and_record(page, "Aceptar todo")

        recorded = proofs(live_rightful, device_id(context))
        assert recorded and {p["lang"] for p in recorded} == {"es"}
        assert {p["action"] for p in recorded} == {"accept_all"}
    finally:
        context.close()


def test_an_unsent_choice_and_a_new_gpc_signal_go_in_one_batch(
    chromium_browser: Browser, shop: Shop, live_rightful: LiveRightful
) -> None:
    from urllib.parse import quote

    context = chromium_browser.new_context(extra_http_headers=GPC_HEADERS)
    context.add_init_script(GPC_IN_PAGE)
    # The choice this browser made last time, saved but never confirmed as recorded (no "s").
    saved = f'{{"v":"{live_rightful.runtime.settings.notice_version}","j":"US-CA",'
    saved += '"c":{"performance":true}}'
    device = "batch-test-device-0001"
    context.add_cookies(
        [
            {"name": "rf_consent_id", "value": device, "url": shop.base_url},
            {"name": "rf_consent", "value": quote(saved), "url": shop.base_url},
        ]
    )
    try:
        page = context.new_page()
        sent: list[str] = []
        page.on(
            "request",
            lambda r: sent.append(r.post_data or "") if r.url.endswith("/consent/events") else None,
        )
        with page.expect_response(lambda r: r.url.endswith("/consent/events")) as answer:
            page.goto(shop.url("US-CA"))
        assert answer.value.status == 200
        assert len(sent) == 1 and '"events"' in sent[0]  # one request for both
        recorded = ledger(live_rightful, device)
        assert recorded["cookies.performance"] == ("given", "banner")
        assert recorded["sale_share"] == ("withdrawn", "gpc")
        stored = next(c["value"] for c in context.cookies() if c["name"] == "rf_consent")
        assert '"s":1' in unquote(stored) and '"g":1' in unquote(stored)
    finally:
        context.close()
