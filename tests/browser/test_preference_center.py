"""A person manages their marketing and privacy choices in a real browser.

Chromium drives a live server; the magic link comes from the e-mail the real SMTP server
received. Each page passes the accessibility smoke check and is photographed at desktop and
phone width (390 px), into RIGHTFUL_SCREENSHOT_DIR when set, else the test's tmp directory.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import uvicorn

from rightful.connectors.sql import dispose_all
from rightful.consent import service
from rightful.core.db import unit_of_work
from rightful.web.app import create_app
from tests.browser.test_access_journey import assert_accessible_basics, expect, heading
from tests.support.app import link_from, make_settings, prepare
from tests.support.live import LiveRightful, _listening_socket, _stop, _wait_until_answering
from tests.support.services import SmtpTestServer

if TYPE_CHECKING:
    from playwright.sync_api import Page, ViewportSize

pytestmark = pytest.mark.browser

CASEY = "casey.morgan@example.com"
DESKTOP: ViewportSize = {"width": 1280, "height": 900}
PHONE: ViewportSize = {"width": 390, "height": 844}


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    """Where screenshots go."""
    folder = Path(os.environ.get("RIGHTFUL_SCREENSHOT_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def photograph(page: Page, shots: Path, name: str) -> None:
    """The whole page at desktop and phone width, each also checked for the basics."""
    sizes: list[tuple[str, ViewportSize]] = [("desktop", DESKTOP), ("phone", PHONE)]
    for label, size in sizes:
        page.set_viewport_size(size)
        assert_accessible_basics(page)
        page.screenshot(path=shots / f"{name}-{label}.png", full_page=True)
    page.set_viewport_size(DESKTOP)


def open_choices_from_emailed_link(
    page: Page, live: LiveRightful, smtp_server: SmtpTestServer, shots: Path
) -> None:
    """From the privacy center's navigation, ask for a link and open it from the e-mail."""
    page.goto(live.url("/"))
    photograph(page, shots, "0-home")
    page.get_by_role("navigation").get_by_role("link", name="Your choices").click()
    expect(heading(page)).to_have_text("Manage your marketing and privacy choices")
    photograph(page, shots, "1-start")
    page.get_by_label("E-mail address").fill(CASEY)
    page.get_by_role("button", name="Send me a link").click()
    expect(heading(page)).to_have_text("Check your e-mail")
    assert_accessible_basics(page)
    letter = smtp_server.wait_for(CASEY, subject_contains="link")
    page.goto(link_from(letter, "/preferences/open/"))
    expect(heading(page)).to_have_text("Open your privacy choices")  # a GET signs no one in
    page.get_by_role("button", name="Open my choices").click()
    expect(heading(page)).to_have_text("Your marketing and privacy choices")
    assert page.url == live.url("/preferences/manage")  # the token left the address bar


def test_a_person_opens_their_link_changes_choices_and_sees_them_saved(
    page: Page, live_rightful: LiveRightful, smtp_server: SmtpTestServer, shots: Path
) -> None:
    page.set_viewport_size(DESKTOP)
    open_choices_from_emailed_link(page, live_rightful, smtp_server, shots)
    photograph(page, shots, "2-manage")

    page.get_by_role("group", name="The Lumen newsletter").get_by_label("E-mail").check()
    page.get_by_label("Do not sell or share my personal information").check()
    page.get_by_role("button", name="Save my choices").click()

    saved = page.locator("#saved")
    expect(saved).to_contain_text("Your choices are saved")
    expect(saved).to_contain_text("The Lumen newsletter by e-mail: on")
    expect(saved).to_contain_text("Selling or sharing my personal information: off")
    expect(page.get_by_label("Do not sell or share my personal information")).to_be_checked()
    photograph(page, shots, "3-saved")


def test_turning_a_choice_back_on_takes_a_confirming_second_step(
    page: Page, live_rightful: LiveRightful, smtp_server: SmtpTestServer, shots: Path
) -> None:
    page.set_viewport_size(DESKTOP)
    open_choices_from_emailed_link(page, live_rightful, smtp_server, shots)
    page.get_by_label("Do not sell or share my personal information").check()
    page.get_by_role("button", name="Save my choices").click()
    expect(page.locator("#saved")).to_contain_text("Your choices are saved")

    page.get_by_label("You may sell or share my personal information").check()
    page.get_by_role("button", name="Save my choices").click()

    expect(heading(page)).to_have_text("Turn these back on?")
    expect(page.get_by_role("main")).to_contain_text("Selling or sharing my personal information")
    photograph(page, shots, "4-confirm")
    page.get_by_role("button", name="Yes, turn them back on").click()
    expect(page.locator("#saved")).to_contain_text("Selling or sharing my personal information: on")
    expect(page.get_by_label("You may sell or share my personal information")).to_be_checked()


def test_a_browser_sending_global_privacy_control_sees_its_opt_out_honored(
    page: Page, live_rightful: LiveRightful, smtp_server: SmtpTestServer, shots: Path
) -> None:
    page.set_viewport_size(DESKTOP)
    page.set_extra_http_headers({"Sec-GPC": "1"})
    open_choices_from_emailed_link(page, live_rightful, smtp_server, shots)

    sale_share = page.get_by_role("group", name="Do Not Sell or Share My Personal Information")
    expect(sale_share).to_contain_text("Opt-out request honored")
    expect(page.get_by_label("Do not sell or share my personal information")).to_be_checked()
    expect(page.get_by_label("Do not use my activity to choose ads")).to_be_checked()
    photograph(page, shots, "9-gpc")


def test_the_unsubscribe_link_asks_once_and_then_confirms(
    page: Page, live_rightful: LiveRightful, shots: Path
) -> None:
    runtime = live_rightful.runtime
    with unit_of_work(runtime.sessions) as session:
        headers = service.unsubscribe_headers(
            session, runtime.settings, email=CASEY, topic="marketing.offers"
        )
    page.set_viewport_size(DESKTOP)
    page.goto(headers["List-Unsubscribe"].strip("<>"))
    expect(heading(page)).to_have_text("Unsubscribe from “Offers and sales”?")
    photograph(page, shots, "5-unsubscribe")

    page.get_by_role("button", name="Unsubscribe", exact=True).click()

    expect(heading(page)).to_have_text("You are unsubscribed")
    expect(page.get_by_role("status")).to_contain_text("no more e-mails about “Offers and sales”")
    photograph(page, shots, "6-unsubscribed")


def test_the_list_removal_page_asks_only_for_the_address(
    page: Page, live_rightful: LiveRightful, smtp_server: SmtpTestServer, shots: Path
) -> None:
    page.set_viewport_size(DESKTOP)
    page.goto(live_rightful.url("/list-removal"))
    page.get_by_label("E-mail address").fill("casey.morgan@")
    page.get_by_role("button", name="Remove my address").click()
    expect(page.get_by_label("E-mail address")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("E-mail address")).to_have_value("casey.morgan@")
    photograph(page, shots, "7-list-removal-error")

    page.get_by_label("E-mail address").fill(CASEY)
    page.get_by_role("button", name="Remove my address").click()
    expect(heading(page)).to_have_text("Check your e-mail")
    page.goto(link_from(smtp_server.wait_for(CASEY), "/list-removal/confirm/"))
    page.get_by_role("button", name="Confirm").click()

    expect(heading(page)).to_have_text("Your address is off our marketing lists")
    expect(page.get_by_role("main")).to_contain_text("10 business days")
    photograph(page, shots, "8-list-removal-done")


# --- the demo shop: Reject all in the banner, then Privacy preferences --------------------------


@pytest.fixture
def demo_shop(tmp_path: Path, smtp_server: SmtpTestServer) -> Iterator[LiveRightful]:
    """A live Rightful in demo mode, so it also serves Lumen's shop (/demo/store): consent.js
    on the same site as the preference center, and Avery signed in with a 'Privacy
    preferences' button that posts the shop's signed assertion."""
    sock = _listening_socket()
    try:
        port = sock.getsockname()[1]
        base_url = f"http://127.0.0.1:{port}"
        settings = make_settings(
            tmp_path, smtp_url=smtp_server.url, base_url=base_url, demo_mode=True
        )
        runtime = prepare(settings)
        app = create_app(runtime, start_worker=True)
        config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
        server = uvicorn.Server(config)
        thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name="rightful-demo", daemon=True
        )
        thread.start()
        try:
            _wait_until_answering(server, thread, f"{base_url}/")
            yield LiveRightful(base_url, runtime, "", "")
        finally:
            _stop(server, thread)
            runtime.engine.dispose()
            dispose_all()
    finally:
        sock.close()


def test_reject_all_in_the_shop_shows_off_in_the_preference_center_it_opens(
    page: Page, demo_shop: LiveRightful, shots: Path
) -> None:
    page.set_viewport_size(DESKTOP)
    page.goto(demo_shop.url("/demo/store?jurisdiction=US-CA"))
    banner = page.get_by_role("region", name="Your privacy choices").or_(
        page.get_by_role("region", name="Cookies on this site")
    )
    expect(banner).to_be_visible()
    with page.expect_response(lambda r: r.url.endswith("/consent/events")) as answer:
        page.get_by_role("button", name="Reject all", exact=True).click()
    assert answer.value.status == 200, answer.value.text()
    expect(banner).to_be_hidden()

    page.get_by_role("button", name="Privacy preferences").click()

    expect(heading(page)).to_have_text("Your marketing and privacy choices")
    expect(page.get_by_label("Do not sell or share my personal information")).to_be_checked()
    expect(page.get_by_label("Do not use my activity to choose ads")).to_be_checked()
    sale_share = page.get_by_role("group", name="Do Not Sell or Share My Personal Information")
    expect(sale_share).to_contain_text("Chosen in the cookie banner on a browser you use")
    photograph(page, shots, "10-after-reject-all")
    with demo_shop.runtime.sessions() as session:  # and a check by her address agrees
        decision = service.check(
            session,
            demo_shop.runtime.settings,
            purpose="targeted_advertising",
            channel="all",
            email="avery.quinn@example.com",
        )
    assert decision.allowed is False
