"""A complaint from the console to its answer: recorded from a call, assigned, answered from
a template, closed; the thread's read audited."""

from __future__ import annotations

import re

from sqlalchemy import select

from rightful.casework.models import Case, CaseMessage
from rightful.messaging.models import OutboxMessage
from rightful.messaging.service import open_letter
from rightful.security.models import AuditEvent
from tests.support.app import STAFF_EMAIL, STAFF_PASSWORD, App
from tests.support.signin import form_token, post_login


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found
    return found.group(1)


def test_a_complaint_by_phone_goes_from_console_to_answered(rightful_app: App) -> None:
    client = rightful_app.client
    post_login(client, STAFF_EMAIL, STAFF_PASSWORD, form_token(client))
    queue = client.get("/admin/cases")
    assert queue.status_code == 200
    recorded = client.post(
        "/admin/cases",
        data={
            "csrf": _csrf(queue.text),
            "kind": "complaint",
            "channel": "phone",
            "received_on": "",
            "name": "Jo Caller",
            "email": "jo@example.com",
            "message": "Called to complain that marketing e-mails kept coming.",
        },
    )
    assert recorded.status_code == 200 and "Jo Caller" in recorded.text
    rt = rightful_app.runtime
    with rt.sessions() as session:
        case = session.scalars(select(Case)).one()
    page = client.get(f"/admin/cases/{case.id}?template=complaint_outcome")
    assert "What we found" in page.text
    client.post(
        f"/admin/cases/{case.id}/assign", data={"csrf": _csrf(page.text), "to": STAFF_EMAIL}
    )
    bad = client.post(
        f"/admin/cases/{case.id}/reply",
        data={"csrf": _csrf(page.text), "text": "Please send us a copy of your passport first."},
    )
    assert "never ask for a password or an ID document" in bad.text
    answered = client.post(
        f"/admin/cases/{case.id}/reply",
        data={
            "csrf": _csrf(page.text),
            "text": "We looked into it: your address is now off every marketing list.",
        },
    )
    assert answered.status_code == 200 and "Answered" in answered.text
    client.post(
        f"/admin/cases/{case.id}/close", data={"csrf": _csrf(page.text), "outcome": "answered"}
    )
    with rt.sessions() as session:
        case = session.get(Case, case.id)
        assert case is not None
        assert (case.status, case.outcome, case.assigned_to) == ("closed", "answered", STAFF_EMAIL)
        directions = list(session.scalars(select(CaseMessage.direction).order_by(CaseMessage.id)))
        letters = [open_letter(rt.settings, m) for m in session.scalars(select(OutboxMessage))]
        reads = session.scalars(
            select(AuditEvent).where(
                AuditEvent.action == "staff.read_personal", AuditEvent.subject_id == case.id
            )
        ).all()
    assert directions == ["in", "out"]
    answer = next(letter for letter in letters if letter.template == "case_reply")
    assert case.reference in answer.subject and answer.to == "jo@example.com"
    assert reads and all(r.actor == STAFF_EMAIL for r in reads)
    queue = client.get("/admin/cases?status=closed&kind=complaint")
    assert case.reference in queue.text


def test_staff_confirm_the_type_and_the_person_gets_the_verification_email(
    rightful_app: App,
) -> None:
    from rightful.casework.service import Incoming, open_case
    from rightful.casework.types import Kind
    from rightful.core.db import unit_of_work
    from rightful.rights.models import RightsRequest

    rt = rightful_app.runtime
    with unit_of_work(rt.sessions) as session:
        case_id = open_case(
            session,
            rt.settings,
            Incoming(email="avery.quinn@example.com", text="Borrar mis datos, por favor."),
            kind=Kind.REQUEST,
            channel="email",
            actor="mailbox",
            suggested_type="delete",
            language="es",
        ).id
    client = rightful_app.client
    post_login(client, STAFF_EMAIL, STAFF_PASSWORD, form_token(client))
    page = client.get(f"/admin/cases/{case_id}")
    assert '<option value="delete" selected>' in page.text
    client.post(
        f"/admin/cases/{case_id}/confirm",
        data={"csrf": _csrf(page.text), "request_type": "delete", "jurisdiction": "US-TX"},
    )
    with rt.sessions() as session:
        req = session.scalars(select(RightsRequest)).one()
        case = session.get(Case, case_id)
        letters = [open_letter(rt.settings, m) for m in session.scalars(select(OutboxMessage))]
    assert case is not None and case.request_id == req.id and case.confirmed_type == "delete"
    assert (req.channel, req.status, req.jurisdiction, req.language) == (
        "email",
        "verifying",
        "US-TX",
        "es",
    )
    assert [letter.to for letter in letters if letter.template == "acknowledgement"] == [
        "avery.quinn@example.com"
    ]
