"""Letters and calls entered in the console: the date received drives the clocks, the scanned
letter is sealed and opened with an audit event, identity checks are recorded with who did them,
and a person without e-mail gets printable letters built from what happened."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select

from rightful import laws
from rightful.core.clock import utcnow
from rightful.messaging.models import OutboxMessage
from rightful.messaging.service import open_letter
from rightful.rights.documents import Document
from rightful.rights.models import RightsRequest
from rightful.security.models import AuditEvent
from tests.support.app import AVERY, STAFF_EMAIL, App
from tests.support.signin import form_token, post_login

SCAN = b"%PDF-1.4\n% a scanned letter from Avery Quinn\n%%EOF\n"


def signed_in(app: App) -> App:
    assert post_login(app.client).status_code == 303
    return app


def enter(app: App, files: dict[str, tuple[str, bytes, str]] | None = None, **fields: str):  # type: ignore[no-untyped-def]
    data = {
        "csrf": form_token(app.client, "/admin/intake"),
        "channel": "post",
        "request_type": "delete",
        "jurisdiction": "CA",
        "name": AVERY["name"],
        "email": AVERY["email"],
        "postal_address": "12 Elm Street\nSan Francisco, CA 94107",
        "identity_method": "signed_letter",
        "identity_note": "Signature matches the one on file.",
        **fields,
    }
    return app.client.post("/admin/intake", data=data, files=files or {}, follow_redirects=False)


def only_request(app: App) -> RightsRequest:
    with app.runtime.sessions() as session:
        reqs = list(session.scalars(select(RightsRequest)))
        assert len(reqs) == 1
        session.expunge_all()
        return reqs[0]


def events(app: App, action: str) -> list[AuditEvent]:
    with app.runtime.sessions() as session:
        found = list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)))
        session.expunge_all()
        return found


def test_the_requests_queue_links_to_the_intake_form(rightful_app: App) -> None:
    page = signed_in(rightful_app).client.get("/admin").text
    assert 'href="/admin/intake"' in page
    form = rightful_app.client.get("/admin/intake").text
    assert 'enctype="multipart/form-data"' in form and 'name="received_at"' in form


def test_a_letter_received_ten_days_ago_runs_its_clocks_from_that_day(rightful_app: App) -> None:
    received = utcnow().date() - timedelta(days=10)
    r = enter(
        signed_in(rightful_app),
        received_at=received.isoformat(),
        files={"letter": ("letter.pdf", SCAN, "application/pdf")},
    )
    assert r.status_code == 303, r.text
    req = only_request(rightful_app)
    moment = datetime.combine(received, time(12), tzinfo=UTC)
    assert req.received_at.date() == received
    assert req.acknowledge_due == laws.acknowledge_due(moment, "US-CA")
    assert req.respond_due == received + timedelta(days=45)
    assert req.channel == "post" and req.identity_method == "signed_letter"
    assert req.identity_checked_by == STAFF_EMAIL
    assert req.status == "awaiting_approval"  # a deletion waits for staff, verified by the check
    entered = events(rightful_app, "request.entered")
    assert entered[0].detail["received_on"] == received.isoformat()
    assert entered[0].at.date() == utcnow().date()  # and when it was typed in
    verified = events(rightful_app, "request.verified")[0]
    assert verified.actor == STAFF_EMAIL and verified.detail["identity_method"] == "signed_letter"
    assert "Signature" not in str(verified.detail)  # the note is sealed, never in the audit


def test_the_scanned_letter_is_sealed_and_each_opening_is_audited(rightful_app: App) -> None:
    enter(signed_in(rightful_app), files={"letter": ("letter.pdf", SCAN, "application/pdf")})
    req = only_request(rightful_app)
    with rightful_app.runtime.sessions() as session:
        doc = session.scalars(select(Document).where(Document.request_id == req.id)).one()
        doc_id, sealed = doc.id, doc.sealed_content
    assert sealed and b"Avery" not in sealed.encode() and "letter.pdf" not in doc.sealed_name
    page = rightful_app.client.get(f"/admin/requests/{req.id}").text
    assert f"/admin/intake/{req.id}/documents/{doc_id}" in page
    opened = rightful_app.client.get(f"/admin/intake/{req.id}/documents/{doc_id}")
    assert opened.status_code == 200 and opened.content == SCAN
    reads = [e for e in events(rightful_app, "staff.read_personal") if e.subject_id == doc_id]
    assert len(reads) == 1 and reads[0].actor == STAFF_EMAIL


def test_a_call_with_e_mail_is_acknowledged_by_e_mail_and_moves_on(rightful_app: App) -> None:
    r = enter(
        signed_in(rightful_app),
        channel="phone",
        request_type="know_categories",
        identity_method="data_points_phone",
        phone_number=AVERY["phone_number"],
    )
    assert r.status_code == 303
    req = only_request(rightful_app)
    assert req.status == "awaiting_approval" and req.reply_by == "email"
    with rightful_app.runtime.sessions() as session:
        msg = session.scalars(select(OutboxMessage)).one()
    assert msg.template == "received_by_staff" and msg.status == "recorded"


def test_without_e_mail_the_letters_are_printed_from_what_happened(rightful_app: App) -> None:
    received = utcnow().date() - timedelta(days=3)
    enter(signed_in(rightful_app), email="", received_at=received.isoformat())
    req = only_request(rightful_app)
    assert req.reply_by == "post" and req.status == "awaiting_approval"
    with rightful_app.runtime.sessions() as session:
        ack = session.scalars(select(OutboxMessage)).one()
    assert ack.status == "by_post"  # never handed to SMTP
    page = rightful_app.client.get(f"/admin/intake/{req.id}/letters/{ack.id}").text
    assert "Lumen Devices, Inc." in page and "100 Harbor Way, San Jose" in page
    assert AVERY["name"] in page and "12 Elm Street" in page
    assert f"reached us on {received.strftime('%B')} {received.day}" in page
    assert "@media print" in rightful_app.client.get("/static/print-letter.css").text
    # Rightful cannot look the person up without an e-mail: approving is refused, staff do it.
    detail = rightful_app.client.get(f"/admin/requests/{req.id}").text
    token = re.search(r'name="csrf" value="([^"]+)"', detail).group(1)  # type: ignore[union-attr]
    refused = rightful_app.client.post(f"/admin/requests/{req.id}/approve", data={"csrf": token})
    assert "carry the request out by hand" in refused.text
    done = rightful_app.client.post(
        f"/admin/intake/{req.id}/by-hand",
        data={"csrf": token, "note": "We deleted your loyalty account and its order history."},
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert only_request(rightful_app).status == "completed"
    with rightful_app.runtime.sessions() as session:
        outcome = session.scalars(
            select(OutboxMessage).where(OutboxMessage.template == "done_manually")
        ).one()
    assert outcome.status == "by_post"
    letter = rightful_app.client.get(f"/admin/intake/{req.id}/letters/{outcome.id}").text
    assert "We deleted your loyalty account and its order history." in letter
    assert req.reference in letter


def test_bad_input_comes_back_with_each_field_named(rightful_app: App) -> None:
    tomorrow = (utcnow().date() + timedelta(days=1)).isoformat()
    r = enter(signed_in(rightful_app), received_at=tomorrow, email="not-an-address")
    assert r.status_code == 422
    assert 'id="received_at-error"' in r.text and 'id="email-error"' in r.text
    assert 'value="not-an-address"' in r.text  # what was typed is kept
    r = enter(rightful_app, received_at="2021-12-31")
    assert r.status_code == 422 and "before January 1, 2022" in r.text
    r = enter(rightful_app, email="", identity_method="email_code")
    assert r.status_code == 422 and 'id="identity_method-error"' in r.text
    r = enter(rightful_app, request_type="")
    assert r.status_code == 422 and 'id="request_type-error"' in r.text
    with rightful_app.runtime.sessions() as session:
        assert session.scalar(select(RightsRequest.id)) is None


def test_identity_checked_later_on_the_request_page(rightful_app: App) -> None:
    enter(signed_in(rightful_app), email="", identity_method="not_yet")
    req = only_request(rightful_app)
    assert req.status == "received" and req.identity_method is None
    token = form_token(rightful_app.client, f"/admin/requests/{req.id}")
    r = rightful_app.client.post(
        f"/admin/intake/{req.id}/identity",
        data={"csrf": token, "identity_method": "knowledge_questions", "identity_note": "ok"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    after = only_request(rightful_app)
    assert after.status == "awaiting_approval" and after.identity_method == "knowledge_questions"
    page = rightful_app.client.get(f"/admin/requests/{req.id}").text
    assert "Questions only the person could answer" in page and STAFF_EMAIL in page


def test_the_api_takes_the_date_received_and_the_identity_check(rightful_app: App) -> None:
    received = utcnow().date() - timedelta(days=20)
    r = rightful_app.client.post(
        "/api/v1/rights-requests",
        headers=rightful_app.auth,
        json={
            "request_type": "know_categories",
            "channel": "phone",
            "received_at": received.isoformat(),
            "identity_method": "data_points_phone",
            "name": AVERY["name"],
            "email": AVERY["email"],
        },
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["received_at"].startswith(received.isoformat())
    assert body["respond_due"] == (received + timedelta(days=45)).isoformat()
    assert body["identity_method"] == "data_points_phone" and body["identity_checked_by"]
    future = rightful_app.client.post(
        "/api/v1/rights-requests",
        headers=rightful_app.auth,
        json={
            "request_type": "delete",
            "channel": "post",
            "name": "A B",
            "received_at": (date.today() + timedelta(days=5)).isoformat(),
        },
    )
    assert future.status_code == 422
    assert [e["field"] for e in future.json()["errors"]] == ["received_at"]


AGENT = "desk@helpers.example"


def documents_of(app: App, request_id: str) -> set[str]:
    with app.runtime.sessions() as session:
        return set(session.scalars(select(Document.kind).where(Document.request_id == request_id)))


def test_an_agent_s_letter_is_entered_with_the_signed_permission_and_the_agent_hears(
    rightful_app: App,
) -> None:
    r = enter(
        signed_in(rightful_app),
        request_type="know_categories",
        requester_role="agent",
        requester_name="Privacy Helpers LLC",
        requester_email=AGENT,
        files={
            "letter": ("letter.pdf", SCAN, "application/pdf"),
            "agent_permission": ("permission.pdf", b"%PDF-1.4 signed", "application/pdf"),
        },
    )
    assert r.status_code == 303, r.text
    req = only_request(rightful_app)
    assert req.requester_role == "agent" and req.status == "awaiting_approval"
    assert documents_of(rightful_app, req.id) == {"letter", "agent_permission"}
    with rightful_app.runtime.sessions() as session:
        [ack] = session.scalars(
            select(OutboxMessage).where(OutboxMessage.template == "received_by_staff")
        )
        to = open_letter(rightful_app.runtime.settings, ack).to
    assert to == AGENT  # the agent, not the consumer, is written to
    page = rightful_app.client.get(f"/admin/requests/{req.id}").text
    assert "filed by an authorized agent" in page and "Privacy Helpers LLC" in page


def test_an_agent_s_letter_without_permission_comes_back_with_what_was_typed(
    rightful_app: App,
) -> None:
    r = enter(
        signed_in(rightful_app),
        requester_role="agent",
        requester_name="Privacy Helpers LLC",
        requester_email="",
    )
    assert r.status_code == 422
    assert "Enter the agent&#39;s or the parent&#39;s e-mail address" in r.text
    assert 'value="Privacy Helpers LLC"' in r.text
    with rightful_app.runtime.sessions() as session:
        assert session.scalars(select(RightsRequest)).first() is None
    r = enter(
        rightful_app,
        requester_role="agent",
        requester_name="Privacy Helpers LLC",
        requester_email=AGENT,
    )
    assert r.status_code == 422
    assert "Upload the consumer&#39;s signed permission for the agent" in r.text


def test_a_parent_s_letter_is_recorded_as_a_parent_acting_for_the_child(
    rightful_app: App,
) -> None:
    r = enter(
        signed_in(rightful_app),
        requester_role="parent",
        requester_name="Pat Quinn",
        requester_email="pat.quinn@example.com",
        name="Robin Quinn",
    )
    assert r.status_code == 422
    assert "Record that the letter declares the writer is the child" in r.text
    r = enter(
        rightful_app,
        requester_role="parent",
        requester_name="Pat Quinn",
        requester_email="pat.quinn@example.com",
        relation_attested="yes",
        name="Robin Quinn",
        files={"parent_evidence": ("birth.pdf", b"%PDF-1.4 certificate", "application/pdf")},
    )
    assert r.status_code == 303, r.text
    req = only_request(rightful_app)
    assert req.requester_role == "parent" and req.identity_checked_by == STAFF_EMAIL
    assert documents_of(rightful_app, req.id) == {"parent_evidence"}
    [entered] = events(rightful_app, "request.entered")
    assert entered.detail["requester_role"] == "parent"
    page = rightful_app.client.get(f"/admin/requests/{req.id}").text
    assert "filed by a parent for a child" in page and "Pat Quinn" in page
