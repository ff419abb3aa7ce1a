"""The contact form and the confirm page, through HTTP as a browser would post them."""

from __future__ import annotations

import re

from sqlalchemy import select

from rightful.casework.models import Case
from rightful.casework.service import Incoming, acknowledge, confirm_url, open_case
from rightful.casework.types import Kind
from rightful.core.db import unit_of_work
from rightful.messaging.models import OutboxMessage
from rightful.messaging.service import open_letter
from rightful.rights.models import RightsRequest
from tests.support.app import App


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found
    return found.group(1)


def test_a_complaint_from_the_contact_form_is_a_case_with_an_acknowledgement(
    rightful_app: App,
) -> None:
    client = rightful_app.client
    page = client.get("/contact")
    assert page.status_code == 200
    answer = client.post(
        "/contact",
        data={
            "csrf": _csrf(page.text),
            "kind": "complaint",
            "message": "You kept e-mailing me after I unsubscribed.",
            "email": "riley@example.com",
        },
    )
    assert answer.status_code == 200 and "message was sent" in answer.text
    rt = rightful_app.runtime
    with rt.sessions() as session:
        case = session.scalars(select(Case)).one()
        (letter,) = [open_letter(rt.settings, m) for m in session.scalars(select(OutboxMessage))]
    assert (case.kind, case.channel) == ("complaint", "web")
    assert case.reference in letter.subject and letter.to == "riley@example.com"


def test_the_contact_form_shows_every_problem(rightful_app: App) -> None:
    client = rightful_app.client
    page = client.get("/contact")
    answer = client.post(
        "/contact", data={"csrf": _csrf(page.text), "kind": "", "message": "", "email": "x"}
    )
    assert answer.status_code == 422
    for field in ("#kind", "#message", "#email"):
        assert f'href="{field}"' in answer.text


def test_the_confirm_link_makes_a_request_from_the_senders_address(rightful_app: App) -> None:
    rt = rightful_app.runtime
    with unit_of_work(rt.sessions) as session:
        case = open_case(
            session,
            rt.settings,
            Incoming(email="avery.quinn@example.com", text="Please delete my data."),
            kind=Kind.REQUEST,
            channel="email",
            actor="mailbox",
            suggested_type="delete",
        )
        acknowledge(session, rt.settings, case)
        case_id = case.id
    path = confirm_url(rt.settings, case_id).removeprefix(rt.settings.base_url)
    assert "avery" not in path
    client = rightful_app.client
    page = client.get(path)
    assert page.status_code == 200 and 'value="delete" checked' in page.text
    answer = client.post(
        path,
        data={"csrf": _csrf(page.text), "request_type": "delete", "jurisdiction": "US-CA"},
        follow_redirects=False,
    )
    assert answer.status_code == 303 and answer.headers["location"].startswith("/status/")
    with rt.sessions() as session:
        req = session.scalars(select(RightsRequest)).one()
        case = session.get(Case, case_id)
        assert case is not None
        assert (req.channel, req.request_type, req.status) == ("email", "delete", "verifying")
        assert (case.request_id, case.status, case.outcome) == (req.id, "closed", "request_opened")
    again = client.get(path)
    assert "already confirmed" in again.text
