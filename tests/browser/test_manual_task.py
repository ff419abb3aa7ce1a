"""A manual task from creation to completion in a real browser: an access request reaches the
paper archive, its owner is e-mailed a console link, opens the task, sees whom it is for and by
when, enters what the archive holds; the request then completes before its deadline and the
person's download holds the entry, labelled as entered by hand."""

from __future__ import annotations

import io
import json
import tempfile
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from rightful import laws
from rightful.rights.models import RightsRequest
from rightful.rights.tasks import task_due
from tests.integration.tasks.conftest import (
    ARCHIVIST,
    PASSWORD,
    add_archive,
    add_people,
    approved,
)
from tests.support.app import link_from
from tests.support.live import LiveRightful
from tests.support.services import SmtpTestServer

if TYPE_CHECKING:
    from playwright.sync_api import Browser

pytestmark = pytest.mark.browser

AVERY = "avery.quinn@example.com"
FOUND = "A paper warranty card for a Lumen Hub, registered 2 April 2023, 1 Market St."
SHOTS = Path(tempfile.gettempdir()) / "rightful-task-shots"  # to look at; never in the repo


def test_a_manual_task_is_done_in_the_console_and_its_entry_reaches_the_package(
    chromium_browser: Browser, live_rightful: LiveRightful, smtp_server: SmtpTestServer
) -> None:
    from playwright.sync_api import expect

    runtime = live_rightful.runtime
    add_archive(runtime)
    add_people(runtime)
    request_id = approved(runtime)  # the embedded worker takes it from here
    with runtime.sessions() as session:
        req = session.get(RightsRequest, request_id)
        assert req is not None
        reference, due, respond_due = req.reference, task_due(req), req.respond_due

    assigned = smtp_server.wait_for(ARCHIVIST, subject_contains="Manual task")
    task_link = link_from(assigned, "/admin/tasks/")
    assert AVERY not in task_link

    context = chromium_browser.new_context()
    try:
        page = context.new_page()
        page.goto(live_rightful.url("/admin/login"))
        page.get_by_label("E-mail").fill(ARCHIVIST)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.get_by_role("link", name="Tasks", exact=True).click()
        expect(page.get_by_role("heading", name="My tasks")).to_be_visible()
        row = page.get_by_role("row").filter(has_text=reference)
        expect(row).to_contain_text("Paper archive")
        expect(row).to_contain_text(due.isoformat())
        row.get_by_role("link").click()
        assert page.url == task_link
        expect(page.get_by_role("heading", name="Look up in Paper archive")).to_be_visible()
        expect(page.get_by_text(AVERY)).to_be_visible()
        expect(page.get_by_text(f"(the request is due {respond_due.isoformat()})")).to_be_visible()
        SHOTS.mkdir(exist_ok=True)
        page.screenshot(path=str(SHOTS / "task-open.png"), full_page=True)
        page.get_by_role("button", name="Complete the task").click()  # nothing typed yet
        expect(page.get_by_role("alert")).to_contain_text("not completed")
        expect(page.get_by_text("Enter what you found, or choose Nothing found.")).to_be_visible()
        page.get_by_label("Found in Warranty cards").fill(FOUND)
        page.get_by_role("button", name="Complete the task").click()
        expect(page.locator(".title-line .pill")).to_have_text("Done")
        expect(page.get_by_text(FOUND)).to_be_visible()
        page.screenshot(path=str(SHOTS / "task-done.png"), full_page=True)
    finally:
        context.close()

    completed = smtp_server.wait_for(AVERY, subject_contains="complete")
    text = completed.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "Paper archive: what we found is in the download." in text
    download = context_free_get(live_rightful, link_from(completed, "/download/"))
    with zipfile.ZipFile(io.BytesIO(download)) as zf:
        data = json.loads(zf.read("data.json"))
        page_html = zf.read("index.html").decode()
    (entry,) = data["entered_by_hand"]
    assert entry["system"] == "Paper archive" and entry["entered_by"] == "Archie Archivist"
    assert entry["findings"] == [{"collection": "warranty_cards", "text": FOUND}]
    assert FOUND in page_html and "Entered by hand" in page_html
    with runtime.sessions() as session:
        done = session.get(RightsRequest, request_id)
        assert done is not None and done.status == "completed" and done.closed_at is not None
        assert laws.local_date(done.closed_at, done.jurisdiction) <= done.respond_due


def context_free_get(live: LiveRightful, url: str) -> bytes:
    """The bytes a link gives (the download link is the person's own, signed)."""
    import httpx

    answer = httpx.get(url, follow_redirects=True, timeout=30)
    assert answer.status_code == 200, answer.status_code
    return answer.content
