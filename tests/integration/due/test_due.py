"""Nothing overdue in silence: requests held past their dates bring staff one reminder before
each due date, one escalation a day while overdue and one digest a day, over real SMTP, however
often the maintenance runs; the console marks them; an extension only inside the first period."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from rightful.core.db import unit_of_work
from rightful.core.errors import ConflictError, InvalidInputError
from rightful.messaging.models import OutboxMessage
from rightful.messaging.service import deliver_pending
from rightful.rights import due, service
from rightful.rights.models import RightsRequest
from rightful.security.models import AuditEvent
from rightful.security.permissions import system_actor
from rightful.worker.loop import run_once
from tests.integration.due.conftest import ANALYST, APPROVER, NOW, held_request
from tests.support.app import STAFF_EMAIL, App
from tests.support.services import SmtpTestServer
from tests.support.signin import form_token, move_clock, post_login, run_cli


def subjects_to(smtp: SmtpTestServer, address: str) -> list[str]:
    return sorted(str(m.message["subject"]) for m in smtp.messages if m.is_addressed_to(address))


def body_of(smtp: SmtpTestServer, address: str, starts: str) -> str:
    mail = next(
        m.message
        for m in smtp.messages
        if m.is_addressed_to(address) and str(m.message["subject"]).startswith(starts)
    )
    return mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]


def audit_count(app: App, action: str) -> int:
    with app.runtime.sessions() as session:
        return (
            session.scalar(
                select(func.count()).select_from(AuditEvent).where(AuditEvent.action == action)
            )
            or 0
        )


def reference(app: App, request_id: str) -> str:
    with app.runtime.sessions() as session:
        return service.access_request(session, request_id).reference


def acknowledge_and_send(app: App, request_id: str) -> None:
    with unit_of_work(app.runtime.sessions) as session:
        req = service.access_request(session, request_id)
        service.acknowledge(session, app.runtime.settings, req, code=None)
    with app.runtime.sessions() as session:
        deliver_pending(session, app.runtime.settings)


@pytest.fixture
def held(due_app: App, smtp_server: SmtpTestServer) -> dict[str, str]:
    """late: 50 days old, never acknowledged; soon: due in 2 days, acknowledged; fresh: 2 days."""
    ids = {
        "late": held_request(due_app, days_ago=50),
        "soon": held_request(due_app, days_ago=43, email="blake.soon@example.com"),
        "fresh": held_request(due_app, days_ago=2, email="casey.fresh@example.com"),
    }
    acknowledge_and_send(due_app, ids["soon"])
    smtp_server.clear()
    return ids


def test_held_requests_bring_one_reminder_one_escalation_a_day_and_one_digest_a_day(
    due_app: App, smtp_server: SmtpTestServer, held: dict[str, str]
) -> None:
    run_once(due_app.runtime)
    run_once(due_app.runtime)  # the maintenance again, the same day: nothing new

    late, soon, fresh = (reference(due_app, held[k]) for k in ("late", "soon", "fresh"))
    assert subjects_to(smtp_server, APPROVER) == [
        "Overdue: 2 deadlines have passed",
        f"Reminder: {soon}, response due in 2 days",
        # the late request's acknowledgement and response, the soon one's response
        "Requests due: 2 overdue, 1 due within 7 days (2027-03-10)",
    ]
    digest = body_of(smtp_server, APPROVER, "Requests due")
    assert late in digest and soon in digest and fresh not in digest
    assert "overdue by 5 days" in digest and "due in 2 days" in digest
    assert "avery" not in digest.lower()  # references, never people
    escalation = body_of(smtp_server, APPROVER, "Overdue")
    assert late in escalation
    assert "Acknowledgement was due" in escalation and "Response was due" in escalation
    assert soon not in escalation  # acknowledged and not yet due
    # The administrator hears too; the analyst does not decide, so is not asked to.
    assert len(subjects_to(smtp_server, STAFF_EMAIL)) == 3
    assert subjects_to(smtp_server, ANALYST) == []
    assert audit_count(due_app, "request.due_reminder") == 1
    assert audit_count(due_app, "request.overdue") == 2
    assert audit_count(due_app, "due.digest") == 1

    smtp_server.clear()
    move_clock(timedelta(days=1))
    run_once(due_app.runtime)
    run_once(due_app.runtime)

    next_day = subjects_to(smtp_server, APPROVER)
    assert len(next_day) == 2
    assert next_day[0] == "Overdue: 2 deadlines have passed"
    assert next_day[1].startswith("Requests due: 2 overdue")  # the acknowledgement and response
    assert "overdue by 6 days" in body_of(smtp_server, APPROVER, "Requests due")
    assert audit_count(due_app, "request.due_reminder") == 1  # reminded once per due date
    assert audit_count(due_app, "request.overdue") == 4
    assert audit_count(due_app, "due.digest") == 2


def test_an_acknowledgement_stops_its_clock_only_once_actually_sent(
    due_app: App, smtp_server: SmtpTestServer
) -> None:
    request_id = held_request(due_app, days_ago=20)
    with unit_of_work(due_app.runtime.sessions) as session:
        req = service.access_request(session, request_id)
        service.acknowledge(session, due_app.runtime.settings, req, code=None)  # queued only

    def kinds() -> list[str]:
        with due_app.runtime.sessions() as session:
            marks = due.console_marks(
                session,
                due_app.runtime.settings,
                actor=system_actor("test"),
                requests=[service.access_request(session, request_id)],
            )
        return [c.kind for c in marks.get(request_id, [])]

    assert "acknowledge" in kinds()
    with due_app.runtime.sessions() as session:
        assert deliver_pending(session, due_app.runtime.settings) == 1
    assert "acknowledge" not in kinds()


def test_the_console_marks_and_filters_what_is_due_soon_or_overdue(
    due_app: App, held: dict[str, str]
) -> None:
    assert post_login(due_app.client).status_code == 303
    late, soon, fresh = (reference(due_app, held[k]) for k in ("late", "soon", "fresh"))

    overdue = due_app.client.get("/admin", params={"due": "overdue"}).text
    assert late in overdue and soon not in overdue and fresh not in overdue
    assert "Response overdue by 5 days" in overdue

    coming = due_app.client.get("/admin", params={"due": "soon"}).text
    assert soon in coming and late not in coming
    assert "Response due in 2 days" in coming

    everything = due_app.client.get("/admin").text
    assert all(ref in everything for ref in (late, soon, fresh))

    page = due_app.client.get(f"/admin/requests/{held['late']}").text
    assert re.search(r'class="pill overdue">Acknowledgement overdue by \d+ days<', page)
    assert "Response overdue by 5 days" in page


def test_the_api_filters_what_is_due_as_the_console_does(
    due_app: App, held: dict[str, str]
) -> None:
    def listed(**params: str) -> set[str]:
        answer = due_app.client.get("/api/v1/rights-requests", params=params, headers=due_app.auth)
        assert answer.status_code == 200, answer.text
        return {row["id"] for row in answer.json()}

    assert listed(due="overdue") == {held["late"]}
    assert listed(due="soon") == {held["soon"]}
    assert listed(due="due") == {held["late"], held["soon"]}
    assert listed() >= set(held.values())
    assert listed(due="overdue", status="completed") == set()
    wrong = due_app.client.get(
        "/api/v1/rights-requests", params={"due": "later"}, headers=due_app.auth
    )
    assert wrong.status_code == 422
    assert wrong.headers["content-type"].startswith("application/problem+json")


def test_an_extension_is_refused_once_the_first_period_has_passed(
    due_app: App, held: dict[str, str]
) -> None:
    assert post_login(due_app.client).status_code == 303
    page = due_app.client.post(
        f"/admin/requests/{held['late']}/extend",
        data={
            "csrf": form_token(due_app.client, f"/admin/requests/{held['late']}"),
            "reason": "We need to search our archive of paper records.",
        },
    ).text
    assert "The first period ended on" in page and "can no longer be extended" in page
    assert "Extend the deadline" not in due_app.client.get(f"/admin/requests/{held['late']}").text
    with due_app.runtime.sessions() as session:
        req = session.get(RightsRequest, held["late"])
        assert req is not None and req.extension_reason is None


def test_an_extension_inside_the_first_period_needs_a_reason_and_tells_the_consumer(
    due_app: App, smtp_server: SmtpTestServer, held: dict[str, str]
) -> None:
    settings, actor = due_app.runtime.settings, system_actor("test")
    with unit_of_work(due_app.runtime.sessions) as session, pytest.raises(InvalidInputError):
        service.extend_request(session, settings, request_id=held["soon"], actor=actor, reason="")
    with unit_of_work(due_app.runtime.sessions) as session:
        req = service.extend_request(
            session,
            settings,
            request_id=held["soon"],
            actor=actor,
            reason="Your records are spread over three archived systems.",
        )
        new_due = req.respond_due
    with due_app.runtime.sessions() as session:
        deliver_pending(session, settings)
    mail = smtp_server.wait_for("blake.soon@example.com")
    text = mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "Your records are spread over three archived systems." in text
    assert new_due.strftime("%B %-d, %Y") in text
    with unit_of_work(due_app.runtime.sessions) as session, pytest.raises(ConflictError):
        service.extend_request(
            session, settings, request_id=held["soon"], actor=actor, reason="Once more, please."
        )


def test_a_letter_acknowledged_by_post_stops_its_clock_once_staff_print_it(
    due_app: App,
) -> None:
    assert post_login(due_app.client).status_code == 303
    received = (NOW - timedelta(days=20)).date()
    entered = due_app.client.post(
        "/admin/intake",
        data={
            "csrf": form_token(due_app.client, "/admin/intake"),
            "channel": "post",
            "request_type": "delete",
            "jurisdiction": "CA",
            "name": "Avery Quinn",
            "email": "",
            "postal_address": "12 Elm Street\nSan Francisco, CA 94107",
            "identity_method": "signed_letter",
            "received_at": received.isoformat(),
        },
        follow_redirects=False,
    )
    assert entered.status_code == 303, entered.text
    with due_app.runtime.sessions() as session:
        req = session.scalars(select(RightsRequest)).one()
        letter = session.scalars(select(OutboxMessage)).one()
        request_id, letter_id = req.id, letter.id
    assert letter.status == "by_post"
    page = f"/admin/requests/{request_id}"
    assert "Acknowledgement overdue by" in due_app.client.get(page).text  # not posted yet

    assert due_app.client.get(f"/admin/intake/{request_id}/letters/{letter_id}").status_code == 200
    assert "Acknowledgement overdue by" not in due_app.client.get(page).text


def test_the_cli_shows_what_is_due_and_sends_the_day_s_reminders_once(
    due_app: App, held: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    listed = run_cli(due_app, monkeypatch, "rights", "due")
    assert f"{reference(due_app, held['late'])}" in listed
    assert "Response overdue by 5 days" in listed and "Response due in 2 days" in listed
    assert reference(due_app, held["fresh"]) not in listed
    first = run_cli(due_app, monkeypatch, "rights", "due", "--send")
    assert first.strip() == "1 reminders, 2 escalations, digest queued."
    again = run_cli(due_app, monkeypatch, "rights", "due", "--send")
    assert again.strip() == "0 reminders, 0 escalations, digest not due."
