"""A person asks for a portable copy in Chromium, names an organisation to receive it,
confirms it from the e-mail, and sees on the status page that its HTTPS endpoint accepted it
(issue 11 item 5). Screenshots go to /tmp."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import uvicorn

from rightful.connectors.sql import dispose_all
from rightful.core.db import unit_of_work
from rightful.security.permissions import system_actor
from rightful.security.service import create_staff
from rightful.web.app import create_app
from rightful.web.serving import UVICORN_OPTIONS
from tests.browser.test_access_journey import (
    AVERY,
    assert_accessible_basics,
    emailed_code,
    enter_code,
    expect,
    heading,
    reference_on,
    staff_console,
)
from tests.support.app import STAFF_EMAIL, STAFF_PASSWORD, link_from, make_settings, prepare
from tests.support.https_receiver import HttpsReceiver
from tests.support.live import HOST, LiveRightful, _listening_socket, _stop, _wait_until_answering
from tests.support.services import SmtpTestServer

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = pytest.mark.browser
SHOTS = Path("/tmp")  # noqa: S108 (screenshots to look at, never into the repo)
OUTCOME_WITHIN_S = 30.0


@pytest.fixture
def receiver(tmp_path: Path) -> Iterator[HttpsReceiver]:
    with HttpsReceiver(tmp_path) as server:
        yield server


@pytest.fixture
def live(
    tmp_path: Path, smtp_server: SmtpTestServer, receiver: HttpsReceiver
) -> Iterator[LiveRightful]:
    """A live Rightful (worker and SMTP on) that trusts the test CA and a loopback endpoint."""
    sock = _listening_socket()
    port = sock.getsockname()[1]
    base_url = f"http://{HOST}:{port}"
    settings = make_settings(
        tmp_path / "rightful",
        smtp_url=smtp_server.url,
        base_url=base_url,
        transfer_ca_file=receiver.ca_file,
        transfer_allow_private_addresses=True,
    )
    (tmp_path / "rightful").mkdir()
    runtime = prepare(settings)
    with unit_of_work(runtime.sessions) as session:
        create_staff(
            session,
            email=STAFF_EMAIL,
            name="Olive Officer",
            password=STAFF_PASSWORD,
            actor=system_actor("test"),
        )
    config = uvicorn.Config(
        create_app(runtime, start_worker=True),
        host=HOST,
        port=port,
        log_level="warning",
        lifespan="on",
        **UVICORN_OPTIONS,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        _wait_until_answering(server, thread, f"{base_url}/")
        yield LiveRightful(base_url, runtime, STAFF_EMAIL, STAFF_PASSWORD)
    finally:
        _stop(server, thread)
        sock.close()
        runtime.engine.dispose()
        dispose_all()


def ask_for_a_portable_copy(page: Page, live: LiveRightful, endpoint: str) -> None:
    page.goto(live.url("/requests/new?type=portability"))
    expect(heading(page)).to_have_text("Make a privacy request")
    page.get_by_label("E-mail address").fill(AVERY)
    page.get_by_label("Phone number").fill("(415) 555-0134")
    page.get_by_label(re.compile(r"^Full name")).fill("Avery Quinn")
    page.get_by_label("ZIP code").fill("94107")
    page.get_by_label(re.compile(r"^Name of the organisation")).fill("Northwind Health")
    page.get_by_label(re.compile(r"^Their e-mail or https")).fill(endpoint)
    page.get_by_label("Type your full name to sign").fill("Avery Quinn")
    page.locator("#transfer").screenshot(path=str(SHOTS / "portability-form.png"))
    page.get_by_role("button", name="Send request").click()
    expect(page.get_by_label("6-digit code")).to_be_visible()


def reload_until(page: Page, text: str) -> None:
    """Reload the status page until its transfer says `text` (waiting, not timing)."""
    deadline = time.monotonic() + OUTCOME_WITHIN_S
    status = page.locator("#transfer-status")
    while text not in status.inner_text():
        assert time.monotonic() < deadline, f"the transfer still says {status.inner_text()!r}"
        page.wait_for_timeout(500)
        page.reload()


def test_a_person_names_a_recipient_confirms_it_and_sees_it_accepted(
    page: Page,
    chromium_browser: Browser,
    live: LiveRightful,
    smtp_server: SmtpTestServer,
    receiver: HttpsReceiver,
) -> None:
    ask_for_a_portable_copy(page, live, receiver.url())
    status_url = page.url
    enter_code(page, emailed_code(smtp_server))
    reload_until(page, "Waiting for you to confirm")
    expect(page.get_by_role("heading", name="Sending your information to another organisation"))
    expect(page.locator("#transfer-title").locator("..")).to_contain_text(receiver.url())
    assert_accessible_basics(page)
    page.screenshot(path=str(SHOTS / "portability-status-waiting.png"), full_page=True)

    asking = smtp_server.wait_for(AVERY, subject_contains="Confirm where we send")
    page.goto(link_from(asking, "/transfers/confirm/"))
    expect(heading(page)).to_have_text("Send your information to this organisation?")
    assert_accessible_basics(page)
    page.screenshot(path=str(SHOTS / "portability-confirm.png"), full_page=True)
    assert receiver.received == []  # opening the link sends nothing
    page.get_by_role("button", name="Yes, send it to them").click()
    expect(heading(page)).to_have_text("Confirmed")

    page.goto(status_url)
    reference = reference_on(page)
    with staff_console(chromium_browser, live) as staff:
        staff.get_by_role("link", name=reference).click()
        staff.get_by_role("button", name="Approve and run").click()
        expect(staff.get_by_role("button", name="Approve and run")).to_have_count(0)
        staff.reload()
        section = staff.get_by_role("region", name="Transfer to another organisation")
        expect(section).to_contain_text("Northwind Health")
        staff.screenshot(path=str(SHOTS / "portability-console.png"), full_page=True)

    reload_until(page, "Their server accepted it (HTTP status 202)")
    assert len(receiver.received) == 1
    page.screenshot(path=str(SHOTS / "portability-status-accepted.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(SHOTS / "portability-status-phone.png"), full_page=True)
    told = smtp_server.wait_for(AVERY, subject_contains="We sent your information")
    assert "HTTP status 202" in told.get_body(("plain",)).get_content()  # type: ignore[union-attr]
