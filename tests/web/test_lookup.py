"""Checking on a request without its link, and withdrawing a request, over HTTP.

The lookup page says the same thing whatever was typed and e-mails a fresh link only when the
reference and the address belong together; withdrawing works only before the request is being
carried out, is audited, and the person is told by e-mail in the language they asked in.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from rightful.core.db import unit_of_work
from rightful.core.errors import ConflictError, ForbiddenError
from rightful.messaging.service import Letter, list_outbox, open_letter
from rightful.rights import service
from rightful.rights.models import RightsRequest
from rightful.rights.schemas import RequestIn
from rightful.rights.withdrawal import withdraw
from rightful.security.models import AuditEvent
from rightful.security.permissions import staff_actor, system_actor
from tests.support.app import AVERY, STAFF_EMAIL, STAFF_PASSWORD, App, link_from

SAME_ANSWER = "If a request with that reference was made with that address"


def csrf(app: App, path: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', app.client.get(path).text)
    assert found
    return found.group(1)


def file_request(app: App, *, language: str = "en", request_type: str = "delete") -> str:
    """A request made on the form in `language`; returns its status page's path."""
    headers = {"Accept-Language": language}
    form = {
        "csrf": csrf(app, "/requests/new"),
        "request_type": request_type,
        "date_range": "all",
        "by_agent": "no",
        "jurisdiction": "CA",
        **AVERY,
    }
    answer = app.client.post("/requests", data=form, headers=headers, follow_redirects=False)
    assert answer.status_code == 303, answer.text
    return str(answer.headers["location"])


def the_request(app: App) -> RightsRequest:
    with app.runtime.sessions() as session:
        req = session.scalars(select(RightsRequest)).one()
        session.expunge(req)
        return req


def letters(app: App, template: str) -> list[Letter]:
    with app.runtime.sessions() as session:
        opened = [open_letter(app.runtime.settings, m) for m in list_outbox(session, limit=500)]
    return [m for m in opened if m.template == template]


def look_up(app: App, email: str, reference: str, **headers: str) -> tuple[int, str]:
    form = {"csrf": csrf(app, "/requests/lookup"), "email": email, "reference": reference}
    answer = app.client.post("/requests/lookup", data=form, headers=headers)
    return answer.status_code, answer.text


def audited(app: App, action: str) -> list[AuditEvent]:
    with app.runtime.sessions() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


# --- checking on a request -------------------------------------------------------------------


def test_the_right_reference_and_address_get_a_fresh_link_by_e_mail(rightful_app: App) -> None:
    file_request(rightful_app)
    reference = the_request(rightful_app).reference
    status, page = look_up(rightful_app, AVERY["email"].upper(), reference.lower())
    assert status == 200
    assert SAME_ANSWER in page
    assert "/status/" not in page  # nothing on screen: the link goes by e-mail
    [letter] = letters(rightful_app, "status_link")
    assert letter.to == AVERY["email"]
    assert reference in letter.subject
    opened = rightful_app.client.get(link_from(letter.text, "/status/"))
    assert opened.status_code == 200 and reference in opened.text
    [event] = audited(rightful_app, "request.status_link_sent")
    assert event.actor == "consumer" and AVERY["email"] not in str(event.detail)


@pytest.mark.parametrize(
    ("email", "reference"),
    [
        ("someone.else@example.com", None),  # the right reference, another address
        (AVERY["email"], "R-AAAAAAAA"),  # the right address, a reference that does not exist
        ("nobody@example.com", "R-CCCCCCCC"),  # neither
    ],
)
def test_anything_else_gets_the_same_page_and_no_e_mail(
    rightful_app: App, email: str, reference: str | None
) -> None:
    file_request(rightful_app)
    real = the_request(rightful_app).reference
    _, known = look_up(rightful_app, AVERY["email"], real)
    status, page = look_up(rightful_app, email, reference or real)
    assert status == 200
    assert page == known  # the very same screen, byte for byte
    assert len(letters(rightful_app, "status_link")) == 1  # only the match's


def test_the_form_asks_again_for_what_is_missing_or_cannot_be_a_reference(
    rightful_app: App,
) -> None:
    status, page = look_up(rightful_app, "", "not a reference")
    assert status == 422
    assert "Enter the e-mail address you made the request with." in page
    assert "Enter the reference from our e-mail" in page
    assert 'aria-invalid="true"' in page
    assert letters(rightful_app, "status_link") == []


def test_one_address_gets_at_most_three_links_an_hour_and_the_page_does_not_say(
    rightful_app: App,
) -> None:
    file_request(rightful_app)
    reference = the_request(rightful_app).reference
    answers = [look_up(rightful_app, AVERY["email"], reference) for _ in range(5)]
    assert {status for status, _ in answers} == {200}
    assert all(SAME_ANSWER in page for _, page in answers)
    assert len(letters(rightful_app, "status_link")) == 3


def test_one_connection_is_stopped_after_ten_lookups_an_hour(rightful_app: App) -> None:
    answers = [look_up(rightful_app, f"p{n}@example.com", "R-AAAAAAAA")[0] for n in range(11)]
    assert answers[:10] == [200] * 10
    assert answers[10] == 429


def test_a_request_made_in_spanish_gets_its_new_link_in_spanish(rightful_app: App) -> None:
    file_request(rightful_app, language="es-MX")
    req = the_request(rightful_app)
    assert req.language == "es"
    status, page = look_up(rightful_app, AVERY["email"], req.reference, **{"Accept-Language": "es"})
    assert status == 200
    assert "le enviamos por correo un enlace" in page
    [letter] = letters(rightful_app, "status_link")
    assert letter.subject == f"Su enlace para seguir la solicitud de privacidad {req.reference}"
    assert "Usted pidió un nuevo enlace" in letter.text


# --- withdrawing -----------------------------------------------------------------------------


def test_a_person_withdraws_an_open_request_from_its_status_page(rightful_app: App) -> None:
    status_path = file_request(rightful_app)
    page = rightful_app.client.get(status_path).text
    assert f'href="{status_path}/withdraw"' in page
    confirm = rightful_app.client.get(f"{status_path}/withdraw")
    assert "Withdraw this request?" in confirm.text
    token = re.search(r'name="csrf" value="([^"]+)"', confirm.text)
    assert token
    answer = rightful_app.client.post(
        f"{status_path}/withdraw", data={"csrf": token.group(1)}, follow_redirects=False
    )
    assert answer.status_code == 303 and answer.headers["location"] == status_path
    assert the_request(rightful_app).status == "withdrawn"
    after = rightful_app.client.get(status_path).text
    assert "This request was withdrawn" in after
    assert f"{status_path}/withdraw" not in after
    [event] = audited(rightful_app, "request.withdrawn")
    assert event.actor == "consumer" and event.detail["from"] == "verifying"
    [letter] = letters(rightful_app, "withdrawn")
    assert letter.to == AVERY["email"]
    assert "is withdrawn, as you asked" in letter.text


def test_withdrawing_needs_the_form_token(rightful_app: App) -> None:
    status_path = file_request(rightful_app)
    answer = rightful_app.client.post(f"{status_path}/withdraw", data={"csrf": "forged"})
    assert answer.status_code == 400
    assert the_request(rightful_app).status == "verifying"


def test_a_request_being_carried_out_can_no_longer_be_withdrawn(rightful_app: App) -> None:
    status_path = file_request(rightful_app, request_type="know_categories")
    with unit_of_work(rightful_app.runtime.sessions) as session:
        req = session.scalars(select(RightsRequest)).one()
        for step in ("verified", "executing"):
            service.move(session, req, service.Status(step), actor="test")
    page = rightful_app.client.get(status_path).text
    assert "Withdraw this request" not in page
    confirm = rightful_app.client.get(f"{status_path}/withdraw", follow_redirects=False)
    assert confirm.status_code == 303  # back to the status page: nothing to confirm
    token = csrf(rightful_app, "/requests/new")  # a page opened before the work started
    answer = rightful_app.client.post(f"{status_path}/withdraw", data={"csrf": token})
    assert answer.status_code == 409
    assert "can no longer be withdrawn" in answer.text
    assert the_request(rightful_app).status == "executing"
    assert letters(rightful_app, "withdrawn") == []


def test_staff_withdraw_on_the_person_s_behalf_and_a_viewer_may_not(rightful_app: App) -> None:
    file_request(rightful_app, language="es")
    request_id = the_request(rightful_app).id
    viewer = staff_actor(name="Vic Viewer", staff_id=90, role="viewer")
    with pytest.raises(ForbiddenError), unit_of_work(rightful_app.runtime.sessions) as session:
        withdraw(session, rightful_app.runtime.settings, request_id=request_id, actor=viewer)
    analyst = staff_actor(name="Ann Analyst", staff_id=91, role="analyst")
    with unit_of_work(rightful_app.runtime.sessions) as session:
        withdraw(session, rightful_app.runtime.settings, request_id=request_id, actor=analyst)
    [event] = audited(rightful_app, "request.withdrawn")
    assert event.actor == "Ann Analyst" and event.detail["on_behalf_of"] == "consumer"
    [letter] = letters(rightful_app, "withdrawn")
    assert "fue retirada, como usted lo pidió" in letter.text  # in the language they asked in
    with pytest.raises(ConflictError), unit_of_work(rightful_app.runtime.sessions) as session:
        withdraw(
            session, rightful_app.runtime.settings, request_id=request_id, actor=system_actor("t")
        )


def test_staff_withdraw_from_the_console_and_the_console_shows_it(rightful_app: App) -> None:
    file_request(rightful_app, language="es")
    request_id = the_request(rightful_app).id
    client = rightful_app.client
    client.post(
        "/admin/login",
        data={
            "csrf": csrf(rightful_app, "/admin/login"),
            "email": STAFF_EMAIL,
            "password": STAFF_PASSWORD,
        },
    )
    page = client.get(f"/admin/requests/{request_id}").text
    assert "Withdraw for the person" in page
    assert "<dt>Language</dt><dd>Español" in page  # staff see which language to answer in
    token = re.search(r'name="csrf" value="([^"]+)"', page)
    assert token
    answer = client.post(
        f"/admin/requests/{request_id}/withdraw",
        data={"csrf": token.group(1)},
        follow_redirects=False,
    )
    assert answer.status_code == 303
    assert the_request(rightful_app).status == "withdrawn"
    after = client.get(f"/admin/requests/{request_id}").text
    assert "Withdrawn" in after and "Withdraw for the person" not in after
    [event] = audited(rightful_app, "request.withdrawn")
    assert event.actor == STAFF_EMAIL and event.detail["on_behalf_of"] == "consumer"
    assert len(letters(rightful_app, "withdrawn")) == 1


AGENT = "desk@helpers.example"


@pytest.mark.parametrize("role", ["agent", "parent"])
def test_an_agent_or_parent_gets_a_fresh_link_at_their_own_address_and_only_there(
    rightful_app: App, role: str
) -> None:
    data = RequestIn(
        request_type="know_categories",
        requester_role=role,
        requester_name="Privacy Helpers LLC" if role == "agent" else "Pat Quinn",
        requester_email=AGENT,
        relation_attested=role == "parent",
        **AVERY,
    )
    with unit_of_work(rightful_app.runtime.sessions) as session:
        reference = service.create_request(session, rightful_app.runtime.settings, data).reference
    _, consumer_page = look_up(rightful_app, AVERY["email"], reference)
    assert letters(rightful_app, "status_link") == []  # the consumer's address did not file it
    status, page = look_up(rightful_app, AGENT.upper(), reference)
    assert status == 200
    assert page == consumer_page  # the very same screen either way
    [letter] = letters(rightful_app, "status_link")
    assert letter.to == AGENT
    opened = rightful_app.client.get(link_from(letter.text, "/status/"))
    assert opened.status_code == 200 and reference in opened.text
