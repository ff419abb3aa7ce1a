"""Appeals: a Virginia denial offers a signed appeal link; the person appeals within the window;
someone other than the first decider decides; an upheld decision names the regulator, a reversed
one reopens the request so it is carried out; after the window the page says so."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from rightful.core.db import unit_of_work
from rightful.core.errors import ConflictError
from rightful.messaging.service import deliver_pending
from rightful.rights import appeals, service
from rightful.rights.clock_models import Appeal
from rightful.rights.execution import run_request
from rightful.rights.retention import minimise_old_requests
from rightful.rights.schemas import RequestIn
from rightful.security.permissions import staff_actor
from rightful.worker.loop import run_once
from tests.integration.due.conftest import APPROVER, NOW
from tests.support.app import STAFF_EMAIL, App
from tests.support.services import SmtpTestServer
from tests.support.signin import move_clock, post_login, run_cli

PERSON = "river.appeal@example.com"
REASON = "We could not match these details to any account we hold."
WHY = "I have an account under this address since 2021; please look again at my orders."


def approver() -> object:
    return staff_actor(name=APPROVER, staff_id=2, role="approver")


def officer() -> object:
    return staff_actor(name=STAFF_EMAIL, staff_id=1, role="admin")


def plain(message: object) -> str:
    return message.get_body(("plain",)).get_content()  # type: ignore[attr-defined]


def denied_in_virginia(
    app: App, smtp: SmtpTestServer, *, verified: bool = False, jurisdiction: str = "VA"
) -> tuple[str, str]:
    """A Virginia request (or one from `jurisdiction`) denied by the approver; (request id,
    the appeal link's path)."""
    settings = app.runtime.settings
    data = RequestIn(request_type="know_categories", email=PERSON, jurisdiction=jurisdiction)
    with unit_of_work(app.runtime.sessions) as session:
        req = service.create_request(session, settings, data)
        if verified:  # as if the person had typed their code
            req.verification_level = req.required_level
        request_id = req.id
    with unit_of_work(app.runtime.sessions) as session:
        service.deny_request(
            session,
            settings,
            request_id=request_id,
            actor=approver(),
            reason=REASON,  # type: ignore[arg-type]
        )
    with app.runtime.sessions() as session:
        deliver_pending(session, settings)
    text = plain(smtp.wait_for(PERSON, subject_contains="About your privacy request"))
    found = re.search(r"http://testserver(/appeal/[A-Za-z0-9_.\-]+)", text)
    assert found, text
    return request_id, found.group(1)


def file(app: App, path: str, reason: str = WHY):  # type: ignore[no-untyped-def]
    page = app.client.get(path).text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page)
    assert csrf, page
    return app.client.post(
        path, data={"csrf": csrf.group(1), "reason": reason}, follow_redirects=False
    )


def the_appeal(app: App, request_id: str) -> Appeal:
    with app.runtime.sessions() as session:
        found = session.scalar(select(Appeal).where(Appeal.request_id == request_id))
        assert found is not None
        session.expunge(found)
        return found


def test_a_denial_in_virginia_is_appealed_and_upheld_by_someone_else_naming_the_regulator(
    due_app: App, smtp_server: SmtpTestServer
) -> None:
    request_id, path = denied_in_virginia(due_app, smtp_server)
    assert "You may appeal this decision" in plain(smtp_server.wait_for(PERSON))

    form = due_app.client.get(path)
    assert form.status_code == 200 and "Why do you disagree with our decision?" in form.text
    assert file(due_app, path).status_code == 303
    appeal = the_appeal(due_app, request_id)
    assert appeal.status == "open"
    assert appeal.due == (NOW.date() + timedelta(days=60))  # Virginia: 60 days to answer
    assert WHY not in appeal.reason  # sealed at rest
    assert "We received your appeal" in due_app.client.get(path).text

    settings = due_app.runtime.settings
    with unit_of_work(due_app.runtime.sessions) as session, pytest.raises(ConflictError) as refused:
        appeals.decide_appeal(
            session,
            settings,
            appeal_id=appeal.id,
            actor=approver(),  # type: ignore[arg-type]
            outcome="reversed",
            explanation="Looking again at my own decision, I think it was right after all.",
        )
    assert "someone else must decide" in refused.value.detail

    with unit_of_work(due_app.runtime.sessions) as session:
        appeals.decide_appeal(
            session,
            settings,
            appeal_id=appeal.id,
            actor=officer(),  # type: ignore[arg-type]
            outcome="upheld",
            explanation="We searched every system again and hold no account under this address.",
        )
    with due_app.runtime.sessions() as session:
        deliver_pending(session, settings)
    outcome = plain(smtp_server.wait_for(PERSON, subject_contains="outcome of your appeal"))
    assert "The decision stands." in outcome
    assert "We searched every system again" in outcome
    assert "Attorney General of Virginia" in outcome
    assert "https://www.oag.state.va.us/consumercomplaintform" in outcome
    decided = the_appeal(due_app, request_id)
    assert (decided.status, decided.outcome, decided.decided_by) == (
        "decided",
        "upheld",
        STAFF_EMAIL,
    )


def test_after_the_window_the_page_says_the_time_to_appeal_has_ended(
    due_app: App, smtp_server: SmtpTestServer
) -> None:
    request_id, path = denied_in_virginia(due_app, smtp_server)
    move_clock(timedelta(days=61))  # Virginia says "a reasonable period": 60 days here
    page = due_app.client.get(path).text
    assert "The time to appeal this decision ended on" in page
    assert "Why do you disagree" not in page
    with due_app.runtime.sessions() as session:
        assert appeals.appeal_of(session, request_id) is None


def test_a_californian_denial_offers_no_appeal(due_app: App, smtp_server: SmtpTestServer) -> None:
    settings = due_app.runtime.settings
    data = RequestIn(request_type="know_categories", email=PERSON, jurisdiction="CA")
    with unit_of_work(due_app.runtime.sessions) as session:
        request_id = service.create_request(session, settings, data).id
    with unit_of_work(due_app.runtime.sessions) as session:
        service.deny_request(
            session,
            settings,
            request_id=request_id,
            actor=approver(),
            reason=REASON,  # type: ignore[arg-type]
        )
    with due_app.runtime.sessions() as session:
        deliver_pending(session, settings)
    text = plain(smtp_server.wait_for(PERSON))
    assert "/appeal/" not in text and "You may appeal" not in text


def test_a_reversed_appeal_reopens_the_request_and_it_completes(
    due_app: App, smtp_server: SmtpTestServer
) -> None:
    request_id, path = denied_in_virginia(due_app, smtp_server, verified=True)
    assert file(due_app, path).status_code == 303
    appeal = the_appeal(due_app, request_id)

    listed = due_app.client.get("/api/v1/appeals", headers=due_app.auth).json()
    assert [a["id"] for a in listed] == [appeal.id] and listed[0]["status"] == "open"
    decided = due_app.client.post(
        f"/api/v1/appeals/{appeal.id}/decision",
        headers=due_app.auth,
        json={"outcome": "reversed", "explanation": "We found your account; we will send it."},
    )
    assert decided.status_code == 200, decided.text
    assert decided.json()["outcome"] == "reversed"

    settings = due_app.runtime.settings
    with due_app.runtime.sessions() as session:
        assert service.access_request(session, request_id).status == "awaiting_approval"
    with unit_of_work(due_app.runtime.sessions) as session:
        service.approve_request(session, settings, request_id=request_id, actor=approver())  # type: ignore[arg-type]
    assert run_request(due_app.runtime.sessions, settings, request_id) == "completed"
    with due_app.runtime.sessions() as session:
        deliver_pending(session, settings)
    reversed_mail = plain(smtp_server.wait_for(PERSON, subject_contains="outcome of your appeal"))
    assert "We have changed it" in reversed_mail
    assert "Attorney General" not in reversed_mail  # nothing to complain about


def test_an_appeal_left_undecided_past_its_date_is_escalated_and_in_the_digest(
    due_app: App, smtp_server: SmtpTestServer
) -> None:
    request_id, path = denied_in_virginia(due_app, smtp_server)
    assert file(due_app, path).status_code == 303
    with due_app.runtime.sessions() as session:
        reference = service.access_request(session, request_id).reference
    smtp_server.clear()
    move_clock(timedelta(days=62))  # Virginia: 60 days to answer
    run_once(due_app.runtime)
    run_once(due_app.runtime)
    escalations = [
        m.message
        for m in smtp_server.messages
        if m.is_addressed_to(APPROVER) and str(m.message["subject"]).startswith("Overdue")
    ]
    assert len(escalations) == 1
    assert (
        str(escalations[0]["subject"]) == f"Overdue: {reference}, appeal decision overdue by 2 days"
    )


def test_what_the_person_wrote_is_removed_with_the_request_after_the_retention_period(
    due_app: App, smtp_server: SmtpTestServer
) -> None:
    request_id, path = denied_in_virginia(due_app, smtp_server)
    assert file(due_app, path).status_code == 303
    appeal = the_appeal(due_app, request_id)
    settings = due_app.runtime.settings
    with unit_of_work(due_app.runtime.sessions) as session:
        appeals.decide_appeal(
            session,
            settings,
            appeal_id=appeal.id,
            actor=officer(),  # type: ignore[arg-type]
            outcome="upheld",
            explanation="We searched every system again and hold no account under this address.",
        )
    move_clock(timedelta(days=settings.records_retention_days + 1))
    with due_app.runtime.sessions() as session:
        assert minimise_old_requests(session, settings) == 1
    kept = the_appeal(due_app, request_id)
    vault = appeals.appeal_vault(settings)
    assert vault.decrypt_json(kept.reason) == "[removed after the retention period]"
    assert kept.written_outcome is None
    assert (kept.outcome, kept.decided_by) == ("upheld", STAFF_EMAIL)  # the record stays


def test_the_appeal_page_speaks_the_person_s_language(
    due_app: App, smtp_server: SmtpTestServer
) -> None:
    _, path = denied_in_virginia(due_app, smtp_server)
    page = due_app.client.get(path, headers={"Accept-Language": "es-MX,es;q=0.9"})
    assert page.headers["Content-Language"] == "es"
    assert "Apelar nuestra decisión" in page.text
    assert "Appeal our decision" not in page.text


def test_the_cli_lists_and_decides_appeals_as_a_named_staff_member(
    due_app: App, smtp_server: SmtpTestServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    request_id, path = denied_in_virginia(due_app, smtp_server)
    assert file(due_app, path).status_code == 303
    appeal = the_appeal(due_app, request_id)
    assert appeal.id in run_cli(due_app, monkeypatch, "rights", "appeals", "--status", "open")
    args = ["rights", "decide-appeal", appeal.id, "--outcome", "upheld", "--explanation"]
    decided = run_cli(
        due_app, monkeypatch, "--as", STAFF_EMAIL, *args, "We hold no account under this address."
    )
    assert "decided  upheld" in decided
    assert the_appeal(due_app, request_id).decided_by == STAFF_EMAIL


def test_a_request_denied_again_after_a_reversal_offers_no_second_appeal(
    due_app: App, smtp_server: SmtpTestServer
) -> None:
    request_id, path = denied_in_virginia(due_app, smtp_server, verified=True)
    assert file(due_app, path).status_code == 303
    settings = due_app.runtime.settings
    with unit_of_work(due_app.runtime.sessions) as session:
        appeals.decide_appeal(
            session,
            settings,
            appeal_id=the_appeal(due_app, request_id).id,
            actor=officer(),  # type: ignore[arg-type]
            outcome="reversed",
            explanation="We found your account after all and will carry the request out.",
        )
    smtp_server.clear()
    with unit_of_work(due_app.runtime.sessions) as session:
        service.deny_request(
            session,
            settings,
            request_id=request_id,
            actor=officer(),  # type: ignore[arg-type]
            reason="The account was closed in 2020 and holds nothing we can send.",
        )
    with due_app.runtime.sessions() as session:
        deliver_pending(session, settings)
    again = plain(smtp_server.wait_for(PERSON, subject_contains="About your privacy request"))
    assert "/appeal/" not in again


def extend_in_console(app: App, appeal_id: str, reason: str):  # type: ignore[no-untyped-def]
    page = app.client.get(f"/admin/appeals/{appeal_id}").text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page)
    assert csrf, page
    return app.client.post(
        f"/admin/appeals/{appeal_id}/extend",
        data={"csrf": csrf.group(1), "reason": reason},
        follow_redirects=False,
    )


DELAY = "Your orders are spread over three systems we must search again by hand."


def test_a_colorado_appeal_may_be_extended_once_by_sixty_days_telling_the_person_why(
    due_app: App, smtp_server: SmtpTestServer
) -> None:
    request_id, path = denied_in_virginia(due_app, smtp_server, jurisdiction="US-CO")
    assert file(due_app, path).status_code == 303
    appeal = the_appeal(due_app, request_id)
    assert appeal.due == NOW.date() + timedelta(days=45)  # C.R.S. 6-1-1306(3)(b)
    assert post_login(due_app.client).status_code == 303
    page = due_app.client.get(f"/admin/appeals/{appeal.id}").text
    assert "Extend to 2027-06-23" in page  # 45 + 60 calendar days

    too_short = extend_in_console(due_app, appeal.id, "Busy.")
    assert too_short.status_code == 422 and "Give the reasons for the delay" in too_short.text
    assert extend_in_console(due_app, appeal.id, DELAY).status_code == 303
    extended = the_appeal(due_app, request_id)
    assert extended.due == NOW.date() + timedelta(days=105)
    assert extended.extended_by == STAFF_EMAIL and extended.extension_reason == DELAY
    with due_app.runtime.sessions() as session:
        deliver_pending(session, due_app.runtime.settings)
    told = plain(smtp_server.wait_for(PERSON, subject_contains="more time to decide your appeal"))
    assert DELAY in told and "June 23, 2027" in told

    again = extend_in_console(due_app, appeal.id, DELAY)
    assert again.status_code == 422 and "the law allows it once" in again.text
    assert "Extend to" not in due_app.client.get(f"/admin/appeals/{appeal.id}").text


def test_an_appeal_cannot_be_extended_where_the_law_or_the_strictest_rules_allow_none(
    due_app: App, smtp_server: SmtpTestServer
) -> None:
    va_id, va_path = denied_in_virginia(due_app, smtp_server)
    assert file(due_app, va_path).status_code == 303
    settings = due_app.runtime.settings
    with unit_of_work(due_app.runtime.sessions) as session, pytest.raises(ConflictError) as no:
        appeals.extend_appeal(
            session,
            settings,
            appeal_id=the_appeal(due_app, va_id).id,
            actor=officer(),  # type: ignore[arg-type]
            reason=DELAY,
        )
    assert "allows no extension of the time to answer an appeal" in no.value.detail

    # The strictest rule for everyone: Colorado's 45 days, and no extension for anyone.
    strictest = settings.model_copy(update={"rules_mode": "strictest"})
    with unit_of_work(due_app.runtime.sessions) as session:
        req = service.create_request(
            session,
            strictest,
            RequestIn(request_type="know_categories", email="sky@example.com", jurisdiction="CA"),
        )
        service.deny_request(
            session,
            strictest,
            request_id=req.id,
            actor=approver(),  # type: ignore[arg-type]
            reason=REASON,
        )
        token = appeals.appeal_signer(strictest).sign(req.id)
        filed = appeals.file_appeal(session, strictest, token=token, reason=WHY)
        assert filed.due == NOW.date() + timedelta(days=45)
        with pytest.raises(ConflictError):
            appeals.extend_appeal(
                session,
                strictest,
                appeal_id=filed.id,
                actor=officer(),  # type: ignore[arg-type]
                reason=DELAY,
            )


def test_an_appeal_is_not_extended_once_its_first_period_has_passed(
    due_app: App, smtp_server: SmtpTestServer
) -> None:
    request_id, path = denied_in_virginia(due_app, smtp_server, jurisdiction="US-CO")
    assert file(due_app, path).status_code == 303
    appeal = the_appeal(due_app, request_id)
    move_clock(timedelta(days=47))
    with unit_of_work(due_app.runtime.sessions) as session, pytest.raises(ConflictError) as late:
        appeals.extend_appeal(
            session,
            due_app.runtime.settings,
            appeal_id=appeal.id,
            actor=officer(),  # type: ignore[arg-type]
            reason=DELAY,
        )
    assert "decide the appeal now" in late.value.detail


def test_the_status_page_offers_the_appeal_then_shows_its_date_and_its_outcome(
    due_app: App, smtp_server: SmtpTestServer
) -> None:
    request_id, path = denied_in_virginia(due_app, smtp_server)
    settings = due_app.runtime.settings
    status = service.status_url(settings, request_id).removeprefix(settings.base_url)
    offered = due_app.client.get(status).text
    assert "You may appeal this decision until" in offered
    assert "/appeal/" in offered
    assert file(due_app, path).status_code == 303
    waiting = due_app.client.get(status).text
    assert "Your appeal" in waiting
    assert "We will write to you with the outcome by May 9, 2027" in waiting  # 60 days
    with unit_of_work(due_app.runtime.sessions) as session:
        appeals.decide_appeal(
            session,
            settings,
            appeal_id=the_appeal(due_app, request_id).id,
            actor=officer(),  # type: ignore[arg-type]
            outcome="upheld",
            explanation="We searched every system again and hold no account under this address.",
        )
    decided = due_app.client.get(status).text
    assert "We decided your appeal on March 10, 2027" in decided
    assert "Outcome: our first decision stands." in decided
    spanish = due_app.client.get(status, headers={"Accept-Language": "es"}).text
    assert "Resultado: nuestra primera decisión se mantiene." in spanish
