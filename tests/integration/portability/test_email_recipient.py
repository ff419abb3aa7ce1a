"""A recipient named by e-mail gets a signed, expiring download link over real SMTP; the holder
of the link gets the package, the download is recorded, and the person is told (issue 11 item 5)."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from rightful.connectors.sql import dispose_all
from rightful.core.runtime import Runtime
from rightful.messaging.service import deliver_pending
from rightful.web.app import create_app
from tests.integration.portability.support import (
    actions,
    approve_and_run,
    deliver,
    submit,
    transfer,
)
from tests.support.app import AVERY, link_from, make_settings, prepare
from tests.support.services import SmtpTestServer

RECIPIENT = "imports@northwind.example"


@pytest.fixture
def runtime(tmp_path: Path, smtp_server: SmtpTestServer) -> Iterator[Runtime]:
    built = prepare(make_settings(tmp_path, smtp_url=smtp_server.url))
    yield built
    built.engine.dispose()
    dispose_all()


def mail_out(runtime: Runtime) -> None:
    with runtime.sessions() as session:
        deliver_pending(session, runtime.settings)


def test_the_recipient_gets_a_link_by_email_and_only_the_link_holder_gets_the_package(
    runtime: Runtime, smtp_server: SmtpTestServer
) -> None:
    request_id = submit(runtime, RECIPIENT)
    deliver(runtime)
    mail_out(runtime)
    asking = smtp_server.wait_for(AVERY["email"], subject_contains="Confirm where we send")
    confirm_link = link_from(asking, "/transfers/confirm/")
    assert RECIPIENT in asking.get_body(("plain",)).get_content()  # type: ignore[union-attr]

    with TestClient(create_app(runtime, start_worker=False)) as browser:
        page = browser.get(confirm_link.removeprefix("http://testserver"))
        assert page.status_code == 200 and "Northwind Health" in page.text
        assert (
            transfer(runtime, request_id).status == "awaiting_confirmation"
        )  # a look is not a yes
        csrf = page.text.split('name="csrf" value="')[1].split('"')[0]
        answered = browser.post(
            confirm_link.removeprefix("http://testserver"), data={"csrf": csrf, "answer": "send"}
        )
        assert answered.status_code == 200 and "Confirmed" in answered.text

        approve_and_run(runtime, request_id)
        deliver(runtime)  # queues the recipient's e-mail
        mail_out(runtime)
        deliver(runtime)  # sees it went out, tells the person
        mail_out(runtime)

        letter = smtp_server.wait_for(RECIPIENT, subject_contains="personal information sent to")
        receive = link_from(letter, "/transfers/receive/").removeprefix("http://testserver")
        assert transfer(runtime, request_id).status == "sent"
        told = smtp_server.wait_for(AVERY["email"], subject_contains="We sent your information")
        assert RECIPIENT in told.get_body(("plain",)).get_content()  # type: ignore[union-attr]

        assert browser.post(receive[:-3] + "abc").status_code == 400  # a tampered link
        assert browser.get(receive).status_code == 200  # the page changes nothing
        assert transfer(runtime, request_id).downloaded_at is None
        got = browser.post(receive)
        assert got.status_code == 200 and got.headers["content-type"] == "application/zip"
        with zipfile.ZipFile(io.BytesIO(got.content)) as zf:
            data = json.loads(zf.read("data.json"))
        assert AVERY["email"] in json.dumps(data["data"])

    done = transfer(runtime, request_id)
    assert (done.status, done.downloads) == ("downloaded", 1)
    assert actions(runtime, request_id)[-3:] == [
        "transfer.sent",
        "transfer.person_told",
        "transfer.downloaded",
    ]
