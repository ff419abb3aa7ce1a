"""Requests filed for someone else: an authorized agent with the consumer's permission, a parent
for their child. The filer's e-mail gets the code and every answer; the consumer's identities
drive execution; staff may ask the consumer to confirm, except where the law forbids it."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from rightful.core.errors import ConflictError
from rightful.messaging.service import list_outbox, open_letter
from rightful.rights import agents, documents, flows, service
from rightful.rights.execution import run_request
from rightful.rights.models import RightsRequest
from rightful.security.models import AuditEvent
from rightful.security.permissions import system_actor
from tests.support.app import AVERY, App, make_settings, prepare
from tests.support.signin import form_token, post_login
from tests.web.test_privacy_center import form

AGENT = {"requester_name": "Privacy Helpers LLC", "requester_email": "desk@helpers.example"}
PARENT = {"requester_name": "Jordan Quinn", "requester_email": "jordan.quinn@example.net"}
PERMISSION = ("permission.pdf", b"%PDF-1.4 I authorize Privacy Helpers LLC", "application/pdf")
EVIDENCE = ("birth-certificate.png", b"\x89PNG\r\n\x1a\n a certificate", "image/png")


def file(app: App, files: dict[str, tuple[str, bytes, str]] | None = None, **fields: str):  # type: ignore[no-untyped-def]
    return app.client.post(
        "/requests", data=form(app, **fields), files=files or {}, follow_redirects=False
    )


def only_request(app: App) -> RightsRequest:
    with app.runtime.sessions() as session:
        req = session.scalars(select(RightsRequest)).one()
        session.expunge(req)
        return req


def letters(app: App) -> list[tuple[str, str, str]]:
    """(to, template, text) of every e-mail, oldest first."""
    with app.runtime.sessions() as session:
        found = [open_letter(app.runtime.settings, m) for m in list_outbox(session)]
    return [(m.to, m.template, m.text) for m in reversed(found)]


def verify_with_code(app: App, req: RightsRequest, to: str) -> None:
    text = next(t for who, tpl, t in letters(app) if who == to and tpl == "acknowledgement")
    code = re.search(r"\b(\d{6})\b", text).group(1)  # type: ignore[union-attr]
    with app.runtime.sessions() as session, session.begin():
        assert (
            flows.verify(session, app.runtime.settings, request_id=req.id, code=code).error is None
        )


def staff(app: App) -> None:
    assert post_login(app.client).status_code == 303


def test_an_agent_files_with_the_consumer_s_permission_and_gets_the_code(rightful_app: App) -> None:
    r = file(rightful_app, {"agent_permission": PERMISSION}, requester_role="agent", **AGENT)
    assert r.status_code == 303, r.text
    req = only_request(rightful_app)
    assert req.requester_role == "agent" and req.by_agent
    sent = letters(rightful_app)
    assert [(to, tpl) for to, tpl, _ in sent] == [(AGENT["requester_email"], "acknowledgement")]
    # The status link in the agent's e-mail is the one the agent follows.
    assert r.headers["location"] in sent[0][2]
    assert service.identities_of(rightful_app.runtime.settings, req)["email"] == AVERY["email"]
    with rightful_app.runtime.sessions() as session:
        docs = documents.listed(session, request_id=req.id)
    assert [d.kind for d in docs] == ["agent_permission"] and docs[0].sealed_content
    assert PERMISSION[1] not in docs[0].sealed_content.encode()


def test_an_agent_without_permission_is_asked_for_it_and_a_power_of_attorney_will_do(
    rightful_app: App,
) -> None:
    r = file(rightful_app, requester_role="agent", **AGENT)
    assert r.status_code == 422 and 'id="agent_permission-error"' in r.text
    assert 'value="agent" checked' in r.text
    poa = ("poa.pdf", b"%PDF-1.4 durable power of attorney", "application/pdf")
    r = file(rightful_app, {"power_of_attorney": poa}, requester_role="agent", **AGENT)
    assert r.status_code == 303
    with rightful_app.runtime.sessions() as session:
        kinds = [
            d.kind for d in documents.listed(session, request_id=only_request(rightful_app).id)
        ]
    assert kinds == ["power_of_attorney"]


def test_the_consumer_confirms_the_agent_s_request_and_then_it_runs_on_their_data(
    rightful_app: App,
) -> None:
    file(rightful_app, {"agent_permission": PERMISSION}, requester_role="agent",
         request_type="know_categories", **AGENT)  # fmt: skip
    req = only_request(rightful_app)
    verify_with_code(rightful_app, req, AGENT["requester_email"])
    assert only_request(rightful_app).status == "awaiting_approval"
    staff(rightful_app)
    token = form_token(rightful_app.client, f"/admin/requests/{req.id}")
    page = rightful_app.client.get(f"/admin/requests/{req.id}").text
    assert "filed by an authorized agent" in page and "Privacy Helpers LLC" in page
    r = rightful_app.client.post(
        f"/admin/intake/{req.id}/ask-consumer", data={"csrf": token}, follow_redirects=False
    )
    assert r.status_code == 303
    asked = [t for to, tpl, t in letters(rightful_app) if tpl == "confirm_with_consumer"]
    assert len(asked) == 1 and "Privacy Helpers LLC" in asked[0]
    assert [to for to, tpl, _ in letters(rightful_app) if tpl == "confirm_with_consumer"] == [
        AVERY["email"]
    ]
    refused = rightful_app.client.post(f"/admin/requests/{req.id}/approve", data={"csrf": token})
    assert "has not confirmed it" in refused.text  # the request waits for the consumer
    link = re.search(r"http://testserver(/confirm-agent/\S+)", asked[0]).group(1)  # type: ignore[union-attr]
    question = rightful_app.client.get(link).text
    assert "Did you ask someone to make this request for you?" in question
    answer = rightful_app.client.post(
        link, data={"csrf": form_token(rightful_app.client, link), "answer": "yes"}
    )
    assert "you confirmed the request" in answer.text
    assert only_request(rightful_app).consumer_confirmation == "confirmed"
    approved = rightful_app.client.post(
        f"/admin/requests/{req.id}/approve", data={"csrf": token}, follow_redirects=False
    )
    assert approved.status_code == 303
    settings = rightful_app.runtime.settings
    assert run_request(rightful_app.runtime.sessions, settings, req.id) == "completed"
    done = only_request(rightful_app)
    assert done.summary, "the answer is built from the consumer's records"
    completed = [to for to, tpl, _ in letters(rightful_app) if tpl == "completed"]
    assert completed == [AGENT["requester_email"]]  # the agent sees the outcome


def test_a_consumer_who_refuses_closes_the_agent_s_request(rightful_app: App) -> None:
    file(rightful_app, {"agent_permission": PERMISSION}, requester_role="agent", **AGENT)
    req = only_request(rightful_app)
    settings = rightful_app.runtime.settings
    with rightful_app.runtime.sessions() as session, session.begin():
        agents.ask_consumer(session, settings, request_id=req.id, actor=system_actor("test"))
    token = agents.confirm_signer(settings).sign(req.id)
    with rightful_app.runtime.sessions() as session, session.begin():
        agents.answer(session, settings, token=token, confirmed=False)
    closed = only_request(rightful_app)
    assert closed.status == "denied" and closed.consumer_confirmation == "refused"
    assert [to for to, tpl, _ in letters(rightful_app) if tpl == "denied"] == [
        AGENT["requester_email"]
    ]


@pytest.mark.parametrize("request_type", ["opt_out_sale", "limit_sensitive"])
def test_the_law_forbids_requiring_the_consumer_to_confirm_an_opt_out_or_limit(
    rightful_app: App, request_type: str
) -> None:
    file(rightful_app, {"agent_permission": PERMISSION}, requester_role="agent",
         request_type=request_type, declaration_signature="", **AGENT)  # fmt: skip
    req = only_request(rightful_app)
    with rightful_app.runtime.sessions() as session, pytest.raises(ConflictError) as refused:
        agents.ask_consumer(
            session, rightful_app.runtime.settings, request_id=req.id, actor=system_actor("test")
        )
    assert "7026(d)" in refused.value.detail
    staff(rightful_app)
    token = form_token(rightful_app.client, f"/admin/requests/{req.id}")
    page = rightful_app.client.post(f"/admin/intake/{req.id}/ask-consumer", data={"csrf": token})
    assert "does not let us require the consumer to confirm" in page.text
    assert only_request(rightful_app).consumer_confirmation == "not_asked"
    assert all(tpl != "confirm_with_consumer" for _, tpl, _ in letters(rightful_app))


def test_a_parent_files_for_their_child_and_every_e_mail_goes_to_the_parent(
    rightful_app: App,
) -> None:
    r = file(rightful_app, {"parent_evidence": EVIDENCE}, requester_role="parent",
             relation_attested="yes", **PARENT)  # fmt: skip
    assert r.status_code == 303, r.text
    req = only_request(rightful_app)
    settings = rightful_app.runtime.settings
    own = service.requester_of(settings, req)
    assert own["email"] == PARENT["requester_email"]
    assert "parent or legal guardian of Avery Quinn" in own["attestation"]
    verify_with_code(rightful_app, req, PARENT["requester_email"])
    with rightful_app.runtime.sessions() as session, session.begin():
        service.approve_request(session, settings, request_id=req.id, actor=system_actor("t"))
    assert run_request(rightful_app.runtime.sessions, settings, req.id) == "completed"
    package = only_request(rightful_app).summary["rows"]
    assert sum(package.values()) > 0  # the child's records, found by the child's identities
    assert {to for to, _, _ in letters(rightful_app)} == {PARENT["requester_email"]}
    staff(rightful_app)
    page = rightful_app.client.get(f"/admin/requests/{req.id}").text
    assert "filed by a parent for a child" in page and "Jordan Quinn" in page
    with rightful_app.runtime.sessions() as session:
        received = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "request.received")
        ).one()
    assert received.detail["requester_role"] == "parent"
    assert "Jordan" not in str(received.detail) and "Avery" not in str(received.detail)


def test_a_parent_must_attest_and_name_the_child(rightful_app: App) -> None:
    r = file(rightful_app, requester_role="parent", name="", **PARENT)
    assert r.status_code == 422
    assert 'id="relation_attested-error"' in r.text and 'id="name-error"' in r.text


def test_evidence_is_demanded_only_when_the_policy_says_so(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from fastapi.testclient import TestClient

    from rightful.web.app import create_app

    runtime = prepare(make_settings(tmp_path, parent_evidence="required"))
    with TestClient(create_app(runtime, start_worker=False)) as client:
        app = App(runtime, client, "")
        r = file(app, requester_role="parent", relation_attested="yes", **PARENT)
        assert r.status_code == 422 and 'id="parent_evidence-error"' in r.text
        r = file(app, {"parent_evidence": EVIDENCE}, requester_role="parent",
                 relation_attested="yes", **PARENT)  # fmt: skip
        assert r.status_code == 303
    runtime.engine.dispose()


def test_minimising_an_old_request_clears_the_agent_s_details_and_documents(
    rightful_app: App,
) -> None:
    from datetime import timedelta

    from rightful.core.clock import utcnow
    from rightful.rights.retention import minimise_old_requests

    file(rightful_app, {"agent_permission": PERMISSION}, requester_role="agent", **AGENT)
    req = only_request(rightful_app)
    settings = rightful_app.runtime.settings
    with rightful_app.runtime.sessions() as session, session.begin():
        row = session.get(RightsRequest, req.id)
        assert row is not None and row.requester
        row.closed_at = utcnow() - timedelta(days=settings.records_retention_days + 1)
    with rightful_app.runtime.sessions() as session:
        assert minimise_old_requests(session, settings) == 1
    with rightful_app.runtime.sessions() as session:
        row = session.get(RightsRequest, req.id)
        assert row is not None and row.requester is None and row.identity_note is None
        docs = documents.listed(session, request_id=req.id)
        assert docs and all(d.sealed_content is None for d in docs)


def test_upgrading_to_0023_makes_earlier_agent_requests_agent_requests(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from alembic import command
    from sqlalchemy import column, insert, table, text

    from rightful.connectors.sql import dispose_all
    from rightful.core.runtime import build_runtime
    from rightful.migrations import _config, upgrade

    settings = make_settings(tmp_path)
    runtime = build_runtime(settings)
    with runtime.engine.begin() as conn:
        cfg = _config(str(runtime.engine.url))
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0022")
        old = table(
            "rights_requests",
            *(column(c) for c in ("id", "reference", "request_type", "status", "channel",
                                  "jurisdiction", "by_agent", "identities", "email_hash",
                                  "required_level", "verification_level", "received_at",
                                  "acknowledge_due", "respond_due", "summary", "updated_at")),
        )  # fmt: skip
        base = {
            "request_type": "delete", "status": "received", "channel": "web",
            "jurisdiction": "US-CA", "identities": "x", "email_hash": "h", "required_level": 2,
            "verification_level": 0, "received_at": "2026-01-05 10:00:00.000000",
            "acknowledge_due": "2026-01-20", "respond_due": "2026-02-19", "summary": "{}",
            "updated_at": "2026-01-05 10:00:00.000000",
        }  # fmt: skip
        conn.execute(
            insert(old),
            [
                {**base, "id": "a" * 32, "reference": "R-AGENT001", "by_agent": True},
                {**base, "id": "b" * 32, "reference": "R-SELF0001", "by_agent": False},
            ],
        )
    upgrade(runtime.engine)
    with runtime.engine.connect() as conn:
        roles = dict(
            conn.execute(text("SELECT reference, requester_role FROM rights_requests")).all()
        )
        replies = {r for (r,) in conn.execute(text("SELECT reply_by FROM rights_requests"))}
    runtime.engine.dispose()
    dispose_all()
    assert roles == {"R-AGENT001": "agent", "R-SELF0001": "self"}
    assert replies == {"email"}
