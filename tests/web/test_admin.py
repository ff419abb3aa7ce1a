"""The console: staff sign in, see requests with deadlines, act on them, read the outbox."""

from __future__ import annotations

import re
from urllib.parse import urlencode

from tests.support.app import STAFF_EMAIL, STAFF_PASSWORD, App, latest_code


def csrf(app: App, path: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', app.client.get(path).text)
    assert found
    return found.group(1)


def sign_in(app: App) -> None:
    r = app.client.post(
        "/admin/login",
        data={"csrf": csrf(app, "/admin/login"), "email": STAFF_EMAIL, "password": STAFF_PASSWORD},
        follow_redirects=False,
    )
    assert r.status_code == 303


def verified_request(app: App) -> str:
    from tests.web.test_api import submit

    rid = str(submit(app)["id"])
    app.client.post(
        f"/api/v1/rights-requests/{rid}/verify",
        headers=app.auth,
        json={"code": latest_code(app.runtime, rid)},
    )
    return rid


def test_console_pages_need_a_signed_in_staff_member(rightful_app: App) -> None:
    r = rightful_app.client.get("/admin", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/admin/login"
    for path in ("/admin/outbox", "/admin/data-map", "/admin/requests/x"):
        r = rightful_app.client.get(path, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/admin/login?" + urlencode(
            {"next": path}  # the page to come back to once signed in
        )


def test_wrong_password_gets_one_message_for_every_failure(rightful_app: App) -> None:
    messages = []
    for email, password in ((STAFF_EMAIL, "wrong password!"), ("nobody@lumen.example", "x" * 12)):
        r = rightful_app.client.post(
            "/admin/login",
            data={"csrf": csrf(rightful_app, "/admin/login"), "email": email, "password": password},
        )
        assert r.status_code == 401
        messages.append(re.search(r'role="alert"><p>([^<]+)', r.text).group(1))  # type: ignore[union-attr]
    assert messages[0] == messages[1]


def test_list_shows_type_status_and_due_date(rightful_app: App) -> None:
    rid = verified_request(rightful_app)
    sign_in(rightful_app)
    page = rightful_app.client.get("/admin").text
    assert "Get a copy of my personal information" in page
    assert "Awaiting approval" in page
    assert f"/admin/requests/{rid}" in page


def test_list_shows_open_requests_first_even_when_a_closed_one_was_due_sooner(
    rightful_app: App,
) -> None:
    from datetime import timedelta

    from rightful.rights.models import RightsRequest

    c, auth = rightful_app.client, rightful_app.auth
    closed = verified_request(rightful_app)
    r = c.post(
        f"/api/v1/rights-requests/{closed}/deny",
        headers=auth,
        json={"reason": "Could not verify the person."},
    )
    assert r.status_code == 200, r.text
    later, sooner = verified_request(rightful_app), verified_request(rightful_app)
    with rightful_app.runtime.sessions.begin() as session:
        for rid, days in ((closed, -2), (later, 10), (sooner, 0)):
            req = session.get(RightsRequest, rid)
            assert req is not None
            req.respond_due += timedelta(days=days)
    sign_in(rightful_app)
    page = c.get("/admin").text
    listed = re.findall(r'href="/admin/requests/([^"]+)"', page)
    assert listed == [sooner, later, closed]  # open work first, soonest due first among it


def test_approving_in_the_console_starts_execution_and_shows_the_timeline(
    rightful_app: App,
) -> None:
    from rightful.worker.loop import run_once

    rid = verified_request(rightful_app)
    sign_in(rightful_app)
    r = rightful_app.client.post(
        f"/admin/requests/{rid}/approve",
        data={"csrf": csrf(rightful_app, f"/admin/requests/{rid}")},
    )
    assert r.status_code == 200 and "Executing" in r.text
    run_once(rightful_app.runtime)
    page = rightful_app.client.get(f"/admin/requests/{rid}").text
    assert "Completed" in page and "storefront:customers" in page
    for step in (
        "received",
        "verifying",
        "verified",
        "awaiting approval",
        "executing",
        "completed",
    ):
        assert f"<strong>{step}</strong>" in page


def test_deny_without_a_reason_shows_the_error_and_changes_nothing(rightful_app: App) -> None:
    rid = verified_request(rightful_app)
    sign_in(rightful_app)
    r = rightful_app.client.post(
        f"/admin/requests/{rid}/deny",
        data={"csrf": csrf(rightful_app, f"/admin/requests/{rid}"), "reason": "no"},
    )
    assert "Give the consumer a reason" in r.text
    assert "Awaiting approval" in r.text


def test_extend_tells_the_consumer_and_moves_the_due_date(rightful_app: App) -> None:
    rid = verified_request(rightful_app)
    sign_in(rightful_app)
    before = rightful_app.client.get(f"/api/v1/rights-requests/{rid}", headers=rightful_app.auth)
    rightful_app.client.post(
        f"/admin/requests/{rid}/extend",
        data={
            "csrf": csrf(rightful_app, f"/admin/requests/{rid}"),
            "reason": "Records must be retrieved from an archive.",
        },
    )
    after = rightful_app.client.get(f"/api/v1/rights-requests/{rid}", headers=rightful_app.auth)
    assert after.json()["respond_due"] > before.json()["respond_due"]
    outbox = rightful_app.client.get("/admin/outbox").text
    assert "We need more time for your request" in outbox


def test_outbox_shows_each_email_as_sent(rightful_app: App) -> None:
    verified_request(rightful_app)
    sign_in(rightful_app)
    page = rightful_app.client.get("/admin/outbox").text
    assert "We received your privacy request" in page and "avery.quinn@example.com" in page
    letter_id = re.search(r'/admin/outbox/(\d+)"', page).group(1)  # type: ignore[union-attr]
    letter = rightful_app.client.get(f"/admin/outbox/{letter_id}").text
    assert "enter this code" in letter
    # Staff see what was sent, but not a code or private link they could use.
    assert "••••••" in letter and "/status/[hidden]" in letter
    assert not re.search(r"\b\d{6}\b", letter.split("enter this code")[1][:200])


def test_data_map_page_lists_systems_and_partners(rightful_app: App) -> None:
    sign_in(rightful_app)
    page = rightful_app.client.get("/admin/data-map").text
    assert "Online store" in page and "brightads" in page
    assert "sqlite" not in page  # connection secrets are never shown


def test_a_verified_deletion_shows_its_erasure_preview(rightful_app: App) -> None:
    from tests.web.test_api import submit

    rid = str(submit(rightful_app, request_type="delete", declaration_signature=None)["id"])
    rightful_app.client.post(
        f"/api/v1/rights-requests/{rid}/verify",
        headers=rightful_app.auth,
        json={"code": latest_code(rightful_app.runtime, rid)},
    )
    sign_in(rightful_app)
    page = rightful_app.client.get(f"/admin/requests/{rid}").text
    assert "Erasure preview" in page and "Nothing has changed yet" in page
    assert "Keep rows" in page and "Delete rows" in page and "seven years" in page


def test_a_deletion_closed_without_erasing_shows_no_preview(rightful_app: App) -> None:
    from tests.web.test_api import submit

    rid = str(submit(rightful_app, request_type="delete", declaration_signature=None)["id"])
    rightful_app.client.post(
        f"/api/v1/rights-requests/{rid}/verify",
        headers=rightful_app.auth,
        json={"code": latest_code(rightful_app.runtime, rid)},
    )
    denied = rightful_app.client.post(
        f"/api/v1/rights-requests/{rid}/deny",
        headers=rightful_app.auth,
        json={"reason": "A warranty claim under way lets us keep this.", "basis": "exempt"},
    )
    assert denied.status_code == 200, denied.text
    sign_in(rightful_app)
    page = rightful_app.client.get(f"/admin/requests/{rid}").text
    assert "Denied" in page  # closed: nothing will be deleted, so nothing is previewed
    assert "Erasure preview" not in page and "Nothing has changed yet" not in page


def test_after_erasure_the_console_shows_the_record_of_what_was_done(rightful_app: App) -> None:
    from rightful.worker.loop import run_once
    from tests.web.test_api import submit

    rid = str(submit(rightful_app, request_type="delete", declaration_signature=None)["id"])
    rightful_app.client.post(
        f"/api/v1/rights-requests/{rid}/verify",
        headers=rightful_app.auth,
        json={"code": latest_code(rightful_app.runtime, rid)},
    )
    rightful_app.client.post(f"/api/v1/rights-requests/{rid}/approve", headers=rightful_app.auth)
    assert run_once(rightful_app.runtime) == 1
    sign_in(rightful_app)
    page = rightful_app.client.get(f"/admin/requests/{rid}").text
    assert "Business partners" in page and "Waiting for answer" in page
    for partner in ("brightads", "helpdesk_cloud", "lumen_services", "parcelgo", "payflow"):
        r = rightful_app.client.post(
            f"/admin/requests/{rid}/waive",
            data={
                "csrf": csrf(rightful_app, f"/admin/requests/{rid}"),
                "partner": partner,
                "reason": "Internal: their privacy mailbox bounced twice (ticket 88).",
                "explanation": "This partner has closed its business and cannot be reached.",
            },
        )
        assert r.status_code == 200
    assert run_once(rightful_app.runtime) == 1
    page = rightful_app.client.get(f"/admin/requests/{rid}").text
    assert "Erasure record" in page and "Completed" in page
    assert "Recorded as not possible" in page
    assert "Told to the person: This partner has closed" in page
    assert "customer_id" in page and "seven years" in page
    from rightful.messaging.service import list_outbox, open_letter

    with rightful_app.runtime.sessions() as session:
        letter = next(
            open_letter(rightful_app.runtime.settings, m)
            for m in list_outbox(session, request_id=rid)
            if m.template == "erased"
        )
    assert "This partner has closed its business" in letter.text
    assert "ticket 88" not in letter.text and "ticket 88" not in letter.html
