"""Business partners are told to delete over signed webhooks or e-mail, and tracked to the end."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from rightful.connectors.sql import dispose_all
from rightful.core import claims, clock
from rightful.core.db import unit_of_work
from rightful.core.runtime import Runtime
from rightful.inventory.models import Partner
from rightful.messaging.service import list_outbox, open_letter
from rightful.rights.execution import run_request
from rightful.rights.models import PartnerNotice
from rightful.rights.partners import acknowledge, deliver_notices, partner_secret, send_due
from rightful.security.permissions import system_actor
from rightful.security.tokens import LinkSigner
from rightful.web.app import create_app
from tests.integration.rights.test_erasure import erase_avery
from tests.support.app import make_settings, prepare

PARTNERS = ("brightads", "helpdesk_cloud", "lumen_services", "parcelgo", "payflow")


class PartnerServer:
    """A real HTTP server playing the partners: each path answers as its partner would."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.behaviour: dict[str, list[tuple[int, dict[str, Any]]]] = {}
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                key = self.path.strip("/")
                outer.received.append({"partner": key, "body": body, "headers": dict(self.headers)})
                script = outer.behaviour.get(key) or [(200, {"status": "deleted"})]
                status, answer = script.pop(0) if len(script) > 1 else script[0]
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def posts_for(self, partner: str) -> list[dict[str, Any]]:
        return [r for r in self.received if r["partner"] == partner]


@pytest.fixture
def partner_server() -> Iterator[PartnerServer]:
    server = PartnerServer()
    server.thread.start()
    yield server
    server.server.shutdown()
    server.server.server_close()


def with_webhooks(tmp_path: Path, server: PartnerServer, *, allow_http: bool = True) -> Runtime:
    # The partners' server is plain http on loopback: allowed here as an operator would for a
    # test bench (RIGHTFUL_ALLOW_HTTP_WEBHOOKS).
    runtime = prepare(make_settings(tmp_path, allow_http_webhooks=allow_http), people=40)
    with unit_of_work(runtime.sessions) as session:
        for key in PARTNERS:
            partner = session.get(Partner, key)
            assert partner is not None
            partner.erasure_webhook = f"{server.url}/{key}"
    return runtime


def notices(runtime: Runtime, request_id: str) -> dict[str, PartnerNotice]:
    with runtime.sessions() as session:
        return {
            n.partner_key: n
            for n in session.scalars(
                select(PartnerNotice).where(PartnerNotice.request_id == request_id)
            )
        }


def deliver(runtime: Runtime) -> None:
    with runtime.sessions() as session:
        deliver_notices(session, runtime.settings)


def test_signed_webhooks_reach_every_partner_and_their_answers_close_the_request(
    tmp_path: Path, partner_server: PartnerServer
) -> None:
    runtime = with_webhooks(tmp_path, partner_server)
    request_id = erase_avery(runtime)
    assert run_request(runtime.sessions, runtime.settings, request_id) == "executing"
    deliver(runtime)
    assert {n.status for n in notices(runtime, request_id).values()} == {"acknowledged"}
    post = partner_server.posts_for("payflow")[0]
    stamp, body = post["headers"]["X-Rightful-Timestamp"], post["body"]
    secret = partner_secret(runtime.settings, "payflow")
    expected = (
        "sha256="
        + hmac.new(secret.encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    )
    assert post["headers"]["X-Rightful-Signature"] == expected
    payload = json.loads(body)
    assert payload["identity"]["email"] == "avery.quinn@example.com"
    assert payload["acknowledge_url"].startswith("http://testserver/partners/ack/")
    assert run_request(runtime.sessions, runtime.settings, request_id) == "completed"
    with runtime.sessions() as session:
        letter = next(
            open_letter(runtime.settings, m)
            for m in list_outbox(session, request_id=request_id)
            if m.template == "erased"
        )
    assert "PayFlow Payments: confirmed" in letter.text
    runtime.engine.dispose()
    dispose_all()


def test_a_plain_http_address_stored_earlier_gets_no_personal_data_once_http_is_off(
    tmp_path: Path, partner_server: PartnerServer
) -> None:
    runtime = with_webhooks(tmp_path, partner_server, allow_http=False)
    request_id = erase_avery(runtime)
    assert run_request(runtime.sessions, runtime.settings, request_id) == "executing"
    deliver(runtime)
    assert partner_server.received == []  # nobody was sent the person's e-mail
    failed = notices(runtime, request_id)["payflow"]
    assert (failed.status, failed.last_error) == ("failed", "insecure address")
    runtime.engine.dispose()
    dispose_all()


def test_a_partner_that_never_answers_gets_reminders_and_staff_decide(
    tmp_path: Path, partner_server: PartnerServer
) -> None:
    partner_server.behaviour["brightads"] = [(200, {"status": "received"})]
    runtime = with_webhooks(tmp_path, partner_server)
    request_id = erase_avery(runtime)
    run_request(runtime.sessions, runtime.settings, request_id)
    deliver(runtime)
    assert notices(runtime, request_id)["brightads"].status == "sent"
    assert run_request(runtime.sessions, runtime.settings, request_id) == "executing"
    clock.freeze(clock.utcnow() + timedelta(days=6))  # past three business days
    try:
        deliver(runtime)
    finally:
        clock.freeze(None)
    reminders = partner_server.posts_for("brightads")
    assert len(reminders) == 2 and json.loads(reminders[1]["body"])["reminder"] == 1
    from tests.support.app import App  # the API, as staff would use it

    with unit_of_work(runtime.sessions) as session:
        from rightful.security.service import create_api_token, create_staff

        token = create_api_token(
            session,
            staff=create_staff(
                session,
                email="o@lumen.example",
                name="O",
                password="x" * 12,
                actor=system_actor("test"),
            ),
            name="t",
            actor=system_actor("test"),
        )
    with TestClient(create_app(runtime, start_worker=False)) as client:
        app = App(runtime, client, token)
        r = client.post(
            f"/api/v1/rights-requests/{request_id}/partners/brightads/waive",
            headers=app.auth,
            json={"reason": "BrightAds closed its EU and US offices."},
        )
        assert r.status_code == 422  # what the person is told is asked for apart
        assert r.json()["errors"][0]["field"].endswith("explanation")
        r = client.post(
            f"/api/v1/rights-requests/{request_id}/partners/brightads/waive",
            headers=app.auth,
            json={
                "reason": "Ticket 4411: their DPO mailbox bounces since the office closed.",
                "explanation": "BrightAds has closed and no longer answers requests.",
            },
        )
        assert r.status_code == 200
    assert run_request(runtime.sessions, runtime.settings, request_id) == "completed"
    with runtime.sessions() as session:
        letter = next(
            open_letter(runtime.settings, m)
            for m in list_outbox(session, request_id=request_id)
            if m.template == "erased"
        )
    assert (
        "BrightAds Network: could not confirm. BrightAds has closed and no longer answers "
        "requests." in letter.text
    )
    assert "Ticket 4411" not in letter.text and "Ticket 4411" not in letter.html
    runtime.engine.dispose()
    dispose_all()


def test_a_failing_partner_is_retried_with_backoff(
    tmp_path: Path, partner_server: PartnerServer
) -> None:
    partner_server.behaviour["payflow"] = [(500, {}), (500, {}), (200, {"status": "deleted"})]
    runtime = with_webhooks(tmp_path, partner_server)
    request_id = erase_avery(runtime)
    run_request(runtime.sessions, runtime.settings, request_id)
    deliver(runtime)
    deliver(runtime)  # not due yet: no second call
    assert len(partner_server.posts_for("payflow")) == 1
    first = notices(runtime, request_id)["payflow"]
    assert (
        first.status == "pending" and first.attempts == 1 and first.last_error == "HTTPStatusError"
    )
    for minutes in (2, 5):
        clock.freeze(clock.utcnow() + timedelta(minutes=minutes))
        try:
            deliver(runtime)
        finally:
            clock.freeze(None)
    final = notices(runtime, request_id)["payflow"]
    assert final.status == "acknowledged" and final.attempts == 2
    assert len(partner_server.posts_for("payflow")) == 3
    runtime.engine.dispose()
    dispose_all()


def test_an_emailed_partner_confirms_with_one_click(tmp_path: Path) -> None:
    runtime = prepare(make_settings(tmp_path), people=40)
    request_id = erase_avery(runtime)
    run_request(runtime.sessions, runtime.settings, request_id)
    deliver(runtime)
    with runtime.sessions() as session:
        letters = [
            open_letter(runtime.settings, m)
            for m in list_outbox(session, request_id=request_id)
            if m.template == "partner_erasure"
        ]
    letter = next(x for x in letters if "ParcelGo" in x.text)
    assert letter.to == "privacy@parcelgo.example" and "avery.quinn@example.com" in letter.text
    link = re.search(r"http://testserver(/partners/ack/\S+)", letter.text)
    assert link
    with TestClient(create_app(runtime, start_worker=False)) as client:
        page = client.get(link.group(1))
        assert page.status_code == 200 and "Yes, we have deleted it" in page.text
        assert "Thank you" in client.post(link.group(1)).text
        assert client.post(link.group(1)).status_code == 200  # twice changes nothing
        assert client.get(link.group(1)[:-2] + "xx").status_code == 400
    assert notices(runtime, request_id)["parcelgo"].status == "acknowledged"
    runtime.engine.dispose()
    dispose_all()


def test_a_confirmation_arriving_while_the_notice_is_sent_is_never_overwritten(
    tmp_path: Path,
) -> None:
    # The worker read the notice as pending; the partner confirms before the send is recorded.
    runtime = prepare(make_settings(tmp_path), people=40)
    request_id = erase_avery(runtime)
    run_request(runtime.sessions, runtime.settings, request_id)
    signer = LinkSigner(runtime.settings.secret_key, "partner-ack")
    with runtime.sessions() as sender:
        notice = sender.scalars(
            select(PartnerNotice).where(
                PartnerNotice.request_id == request_id, PartnerNotice.partner_key == "parcelgo"
            )
        ).one()
        assert notice.status == "pending"
        won = claims.claim(
            sender,
            PartnerNotice,
            PartnerNotice.id == notice.id,
            lease=timedelta(minutes=5),
            grace=timedelta(minutes=1),
            limit=1,
        )
        assert won.ids == [notice.id]
        with unit_of_work(runtime.sessions) as partner:
            acknowledge(partner, runtime.settings, token=signer.sign(str(notice.id)))
        send_due(sender, runtime.settings, [notice], won)
        sender.commit()
    assert notices(runtime, request_id)["parcelgo"].status == "acknowledged"
    with runtime.sessions() as session:
        letters = [
            open_letter(runtime.settings, m).text
            for m in list_outbox(session, request_id=request_id)
            if m.template == "partner_erasure"
        ]
    assert not any("ParcelGo" in text for text in letters)  # no notice for an answered request
    deliver(runtime)
    assert notices(runtime, request_id)["parcelgo"].status == "acknowledged"
    runtime.engine.dispose()
    dispose_all()
