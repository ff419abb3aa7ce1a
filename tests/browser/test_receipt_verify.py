"""Anyone checks a consent receipt in a real browser, without JavaScript: a genuine receipt,
pasted or uploaded, is confirmed with its entry in the log and the day it was signed; a
receipt changed afterwards is refused. Pages are photographed at desktop and phone width."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from rightful.consent import catalog, ledger, receipts, sequencer, subjects
from rightful.consent.catalog import Interface, State
from rightful.core.db import unit_of_work
from tests.browser.test_access_journey import assert_accessible_basics, expect
from tests.browser.test_preference_center import photograph
from tests.support.live import LiveRightful

if TYPE_CHECKING:
    from playwright.sync_api import Browser

pytestmark = pytest.mark.browser

PERSON = "jordan.vale@example.com"


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    """Where screenshots go (RIGHTFUL_SCREENSHOT_DIR when set)."""
    folder = Path(os.environ.get("RIGHTFUL_SCREENSHOT_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _receipt(live: LiveRightful) -> dict[str, Any]:
    """A person withdraws consent to the sale of their data; the log takes it in; the receipt."""
    settings = live.runtime.settings
    with unit_of_work(live.runtime.sessions) as session:
        person = subjects.person(session, settings, PERSON)
        choice = [ledger.Choice(catalog.SALE_SHARE, "all", State.WITHDRAWN)]
        ledger.record(session, settings, person, choice, ledger.Collected(Interface.API))
    deadline = time.monotonic() + 30
    while True:  # the server's own worker may hold the sequencer's lease: then it sequences
        sequencer.run_once(live.runtime.sessions, settings)
        with unit_of_work(live.runtime.sessions) as session:
            person = subjects.person(session, settings, PERSON)
            receipt = receipts.receipt(session, settings, person)
        if receipt["events"][0]["log"]["status"] == "included":
            return receipt
        assert time.monotonic() < deadline, "the event never reached the signed log"
        time.sleep(0.2)


def test_a_receipt_is_checked_in_the_browser_and_a_changed_one_refused(
    live_rightful: LiveRightful,
    chromium_browser: Browser,
    shots: Path,
    tmp_path: Path,
) -> None:
    receipt = _receipt(live_rightful)
    entry = receipt["events"][0]["log"]["position"] + 1
    context = chromium_browser.new_context(java_script_enabled=False)  # works without it
    page = context.new_page()
    page.goto(live_rightful.url("/consent/receipts/verify"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Check a consent receipt")
    photograph(page, shots, "receipt-0-form")

    page.get_by_label("Your receipt").fill(json.dumps(receipt, indent=2))
    page.get_by_role("button", name="Check the receipt").click()
    result = page.get_by_role("status")
    expect(result.get_by_role("heading")).to_have_text("This receipt is genuine")
    expect(result).to_contain_text(
        f"It is entry {entry:,} of our consent log, included in the log we signed on"
    )
    photograph(page, shots, "receipt-1-genuine")

    changed = json.loads(json.dumps(receipt))
    changed["events"][0]["event_type"] = "given"  # someone makes it say consent was given
    page.get_by_label("Your receipt").fill(json.dumps(changed))
    page.get_by_role("button", name="Check the receipt").click()
    refused = page.get_by_role("alert")
    expect(refused.get_by_role("heading")).to_have_text("This receipt could not be confirmed")
    expect(refused).to_contain_text(
        "The receipt shows another choice (given or withdrawn) than our log recorded."
    )
    photograph(page, shots, "receipt-2-refused")

    upload = tmp_path / "consent-record.json"  # the file as the preference center gives it
    upload.write_text(json.dumps(receipt))
    page.get_by_label("Your receipt").fill("")
    page.get_by_label("Or choose the receipt file").set_input_files(upload)
    page.get_by_role("button", name="Check the receipt").click()
    expect(page.get_by_role("status").get_by_role("heading")).to_have_text(
        "This receipt is genuine"
    )
    assert_accessible_basics(page)
    context.close()
