"""A privacy officer turns on a second factor in a real browser, and signs in with it after."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pyotp
import pytest

from tests.support.live import LiveRightful

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = pytest.mark.browser


def sign_in(page: Page, live: LiveRightful, code: str = "") -> None:
    page.goto(live.url("/admin/login"))
    page.get_by_label("E-mail").fill(live.staff_email)
    page.get_by_label("Password").fill(live.staff_password)
    if code:
        page.get_by_label("Code from your authenticator app").fill(code)
    page.get_by_role("button", name="Sign in").click()


def test_an_officer_sets_up_a_second_factor_and_then_needs_its_code(
    chromium_browser: Browser, live_rightful: LiveRightful
) -> None:
    from playwright.sync_api import expect

    context = chromium_browser.new_context()
    try:
        page = context.new_page()
        sign_in(page, live_rightful)
        expect(page.get_by_role("heading", level=1)).to_have_text("Today")
        page.get_by_role("link", name="Olive Officer").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Your account")
        page.get_by_label("Your current password").fill(live_rightful.staff_password)
        page.get_by_role("button", name="Set up a second factor").click()
        key = page.locator(".secret-key").inner_text().replace(" ", "")
        assert re.fullmatch(r"[A-Z2-7]{32}", key)
        expect(page.locator(".secret-uri")).to_contain_text("otpauth://totp/")
        app = pyotp.TOTP(key)
        page.get_by_label("Code from the app").fill(app.now())
        page.get_by_role("button", name="Turn on").click()
        expect(page.get_by_role("status")).to_contain_text("Your second factor is on")
        page.get_by_role("button", name="Sign out").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Sign in to the privacy console")

        sign_in(page, live_rightful)  # the password alone
        expect(page.get_by_role("alert")).to_contain_text("do not match")
        sign_in(page, live_rightful, code=app.at(datetime.now(UTC), counter_offset=1))
        expect(page.get_by_role("heading", level=1)).to_have_text("Today")
    finally:
        context.close()
