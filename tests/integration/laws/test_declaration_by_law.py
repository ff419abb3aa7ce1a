"""Whether a copy needs the person's signed declaration is the law's rule: required in
California (11 CCR § 7062(c)), not asked under the GDPR, the organisation's practice in Texas
(kept by default, droppable), and required for everyone in strictest mode. The web form, the
API, verification, the mailbox case's confirm page and the console all follow it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from rightful.casework.models import Case
from rightful.casework.service import Incoming, confirm_signer, open_case
from rightful.casework.types import Kind
from rightful.connectors.sql import dispose_all
from rightful.core.db import unit_of_work
from rightful.rights.models import RightsRequest
from rightful.security.models import AuditEvent
from rightful.security.permissions import system_actor
from rightful.security.service import create_api_token, create_staff
from rightful.web.app import create_app
from tests.support.app import (
    AVERY,
    STAFF_EMAIL,
    STAFF_PASSWORD,
    App,
    latest_code,
    make_settings,
    prepare,
)
from tests.support.signin import form_token, post_login

ACCESS = {"request_type": "access", "channel": "api", "date_range": "all", **AVERY}


@pytest.fixture
def app_with(tmp_path: Path) -> Iterator[object]:
    """A factory: Rightful with some settings changed (a small estate, staff, an API token)."""
    opened: list[App] = []

    def build(**settings: object) -> App:
        runtime = prepare(make_settings(tmp_path / str(len(opened)), **settings), people=3)
        with unit_of_work(runtime.sessions) as session:
            staff = create_staff(
                session,
                email=STAFF_EMAIL,
                name="Olive Officer",
                password=STAFF_PASSWORD,
                actor=system_actor("test"),
            )
            token = create_api_token(session, staff=staff, name="tests", actor=system_actor("test"))
        client = TestClient(create_app(runtime, start_worker=False))
        client.__enter__()
        app = App(runtime, client, token)
        opened.append(app)
        return app

    yield build
    for app in opened:
        app.client.__exit__(None, None, None)
        app.runtime.engine.dispose()
    dispose_all()


def api(app: App, jurisdiction: str, **more: object) -> tuple[int, dict[str, object]]:
    r = app.client.post(
        "/api/v1/rights-requests",
        headers=app.auth,
        json={**ACCESS, "jurisdiction": jurisdiction, **more},
    )
    return r.status_code, r.json()


def stored(app: App) -> list[RightsRequest]:
    with app.runtime.sessions() as session:
        rows = list(session.scalars(select(RightsRequest)))
        for row in rows:
            session.expunge(row)
    return rows


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found
    return found.group(1)


def web_form(app: App, jurisdiction: str, **more: str) -> dict[str, str]:
    return {
        "csrf": csrf_of(app.client.get("/requests/new").text),
        "request_type": "access",
        "date_range": "all",
        "jurisdiction": jurisdiction,
        "declaration_jurisdiction": jurisdiction,
        **AVERY,
        **more,
    }


# The web form and the API: Ireland without, California with.


def test_an_irish_access_request_through_the_form_needs_no_declaration(
    rightful_app: App,
) -> None:
    r = rightful_app.client.post(
        "/requests", data=web_form(rightful_app, "IE"), follow_redirects=False
    )
    assert r.status_code == 303, r.text
    (req,) = stored(rightful_app)
    assert (req.jurisdiction, req.request_type, req.status) == ("IE", "access", "verifying")
    assert req.declaration is None and req.declaration_signed_at is None
    # And it verifies: the missing declaration does not deny it at the code.
    page = rightful_app.client.get(r.headers["location"]).text
    verified = rightful_app.client.post(
        f"{r.headers['location']}/verify",
        data={"csrf": csrf_of(page), "code": latest_code(rightful_app.runtime, req.id)},
    )
    assert "Under review by our privacy team" in verified.text
    assert stored(rightful_app)[0].status == "awaiting_approval"


def test_a_californian_access_request_through_the_form_still_needs_it(
    rightful_app: App,
) -> None:
    r = rightful_app.client.post("/requests", data=web_form(rightful_app, "US-CA"))
    assert r.status_code == 422
    assert "Type your full name to sign the declaration." in r.text
    assert 'id="declaration"' in r.text and 'id="declaration" hidden' not in r.text
    assert stored(rightful_app) == []
    signed = rightful_app.client.post(
        "/requests",
        data=web_form(rightful_app, "US-CA", declaration_signature="Avery Quinn"),
        follow_redirects=False,
    )
    assert signed.status_code == 303
    (req,) = stored(rightful_app)
    assert req.declaration and "the laws of the State of California" in req.declaration


def test_without_javascript_the_form_shows_the_declaration_only_for_a_place_needing_it(
    rightful_app: App,
) -> None:
    # The form comes back (another field's error) for the place chosen.
    irish = rightful_app.client.post("/requests", data=web_form(rightful_app, "IE", email="no"))
    assert irish.status_code == 422
    assert '<fieldset id="declaration" hidden>' in irish.text
    assert "Type your full name to sign the declaration." not in irish.text
    texan = rightful_app.client.post("/requests", data=web_form(rightful_app, "US-TX", email="no"))
    assert '<fieldset id="declaration">' in texan.text
    # Each place says which kinds need it there, for the script that follows the choice.
    assert re.search(r'<option value="IE"[^>]*data-declaration=""', irish.text)
    assert re.search(r'<option value="US-CA"[^>]*data-declaration="access portability"', irish.text)


def test_the_api_takes_an_irish_access_request_without_a_declaration(rightful_app: App) -> None:
    status, body = api(rightful_app, "IE")
    assert status == 201, body
    # A name typed under a law that asks for no declaration is not kept as a signature.
    status, body = api(rightful_app, "FR", declaration_signature="Avery Quinn")
    assert status == 201, body
    assert sorted((r.jurisdiction, r.declaration) for r in stored(rightful_app)) == [
        ("FR", None),
        ("IE", None),
    ]
    with rightful_app.runtime.sessions() as session:
        events = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "request.received")
        ).all()
    assert [e.detail["signed_declaration"] for e in events] == [False, False]


def test_the_api_still_refuses_a_californian_copy_without_one(rightful_app: App) -> None:
    status, body = api(rightful_app, "US-CA")
    assert status == 422
    assert body["errors"] == [
        {
            "field": "declaration_signature",
            "message": "Type your full name to sign the declaration.",
        }
    ]
    assert stored(rightful_app) == []


# Texas: the organisation's own practice, kept by default, droppable.


def test_a_texan_copy_needs_it_under_the_default_practice(rightful_app: App) -> None:
    status, body = api(rightful_app, "US-TX")
    assert status == 422 and body["errors"][0]["field"] == "declaration_signature"
    status, body = api(rightful_app, "US-TX", declaration_signature="Avery Quinn")
    assert status == 201, body
    (req,) = stored(rightful_app)
    assert req.declaration and "the laws of the State of Texas" in req.declaration


def test_an_organisation_that_drops_the_practice_asks_it_only_in_california(
    app_with: object,
) -> None:
    app = app_with(declaration_practice="drop")  # type: ignore[operator]
    assert api(app, "US-TX")[0] == 201
    assert api(app, "US-OTHER")[0] == 201  # the house rules: practice too
    assert api(app, "US-CA")[0] == 422  # the law requires it there


# Strictest mode: the strictest rule is California's, for everyone.


def test_strictest_mode_needs_it_for_ireland(app_with: object) -> None:
    app = app_with(rules_mode="strictest")  # type: ignore[operator]
    status, body = api(app, "IE")
    assert status == 422 and body["errors"][0]["field"] == "declaration_signature"
    status, body = api(app, "IE", declaration_signature="Siobhán Murphy")
    assert status == 201, body
    (req,) = stored(app)
    assert req.declaration and "under the laws of Ireland" in req.declaration
    # Even an organisation that drops its own practice: a law requires it.
    dropped = app_with(rules_mode="strictest", declaration_practice="drop")  # type: ignore[operator]
    assert api(dropped, "GB")[0] == 422


# The mailbox: a case confirmed by the person or by staff.


def _case(app: App, suggested: str = "access") -> str:
    with unit_of_work(app.runtime.sessions) as session:
        return open_case(
            session,
            app.runtime.settings,
            Incoming(email=AVERY["email"], text="Please send me a copy of my data."),
            kind=Kind.REQUEST,
            channel="email",
            actor="mailbox",
            suggested_type=suggested,
            language="en",
        ).id


def test_the_case_confirm_page_asks_the_signature_only_where_needed(rightful_app: App) -> None:
    client = rightful_app.client
    case_id = _case(rightful_app)
    path = f"/cases/confirm/{confirm_signer(rightful_app.runtime.settings).sign(case_id)}"
    page = client.get(path).text
    assert re.search(r'<option value="IE"[^>]*data-declaration=""', page)
    californian = client.post(
        path, data={"csrf": csrf_of(page), "request_type": "access", "jurisdiction": "US-CA"}
    )
    assert californian.status_code == 422
    assert "Type your full name to sign the declaration." in californian.text
    irish = client.post(
        path,
        data={"csrf": csrf_of(page), "request_type": "access", "jurisdiction": "IE"},
        follow_redirects=False,
    )
    assert irish.status_code == 303, irish.text
    (req,) = stored(rightful_app)
    assert (req.jurisdiction, req.declaration) == ("IE", None)


def test_the_case_confirm_page_shows_the_text_signed_and_stores_exactly_that(
    rightful_app: App,
) -> None:
    """A name typed on the case's page signs the declaration the page shows: its words are
    on the page, a name typed under California's text for Texas is asked again, and the
    request keeps the Texan text the page showed."""
    client = rightful_app.client
    path = (
        f"/cases/confirm/{confirm_signer(rightful_app.runtime.settings).sign(_case(rightful_app))}"
    )
    page = client.get(path).text
    assert "I declare under penalty of perjury under" in page
    assert 'id="declaration-law" aria-live="polite">the laws of the State of California' in page
    moved = client.post(
        path,
        data={
            "csrf": csrf_of(page),
            "request_type": "access",
            "jurisdiction": "US-TX",
            "declaration_jurisdiction": "US-CA",
            "declaration_signature": "Avery Quinn",
        },
    )
    assert moved.status_code == 422
    assert "The declaration now cites" in moved.text
    assert 'id="declaration-law" aria-live="polite">the laws of the State of Texas' in moved.text
    assert stored(rightful_app) == []
    shown = re.search(r'<blockquote class="declaration">(.*?)</blockquote>', moved.text, re.S)
    assert shown
    signed = client.post(
        path,
        data={
            "csrf": csrf_of(moved.text),
            "request_type": "access",
            "jurisdiction": "US-TX",
            "declaration_jurisdiction": "US-TX",
            "declaration_signature": "Avery Quinn",
        },
        follow_redirects=False,
    )
    assert signed.status_code == 303, signed.text
    (req,) = stored(rightful_app)
    assert req.jurisdiction == "US-TX"
    assert req.declaration == re.sub(r"<[^>]+>", "", shown.group(1))


def test_staff_open_an_irish_copy_from_a_case_and_keep_their_choice_after_a_refusal(
    rightful_app: App,
) -> None:
    client = rightful_app.client
    post_login(client, STAFF_EMAIL, STAFF_PASSWORD, form_token(client))
    texan, irish = _case(rightful_app), _case(rightful_app)
    page = client.get(f"/admin/cases/{texan}").text
    refused = client.post(
        f"/admin/cases/{texan}/confirm",
        data={"csrf": csrf_of(page), "request_type": "access", "jurisdiction": "US-TX"},
    )
    assert "own signed declaration" in refused.text
    # The page keeps what staff chose: Texas, not California.
    assert '<option value="US-TX" selected>' in refused.text
    assert '<option value="US-CA" selected>' not in refused.text
    assert "In Texas this type needs the person&#39;s own signed declaration" in refused.text
    assert stored(rightful_app) == []
    page = client.get(f"/admin/cases/{irish}").text
    client.post(
        f"/admin/cases/{irish}/confirm",
        data={"csrf": csrf_of(page), "request_type": "access", "jurisdiction": "IE"},
    )
    (req,) = stored(rightful_app)
    with rightful_app.runtime.sessions() as session:
        case = session.get(Case, irish)
        assert case is not None and case.request_id == req.id
    assert (req.jurisdiction, req.request_type, req.status) == ("IE", "access", "verifying")
    detail = client.get(f"/admin/requests/{req.id}").text
    assert "Not needed: the GDPR asks none" in detail


# The console's Laws page shows the rule per pack.


def test_the_laws_page_shows_each_pack_s_declaration_rule(rightful_app: App) -> None:
    client = rightful_app.client
    post_login(client, STAFF_EMAIL, STAFF_PASSWORD, form_token(client))
    text = client.get("/admin/laws").text
    ccpa = text[text.index('id="pack-us-ca"') :]
    ccpa = ccpa[: ccpa.index("</section>")]
    assert re.search(r"Signed declaration for a copy</th><td[^>]*>Required", ccpa)
    assert "Cal. Code Regs. tit. 11, § 7062(c)" in ccpa
    gdpr = text[text.index('id="pack-gdpr"') :]
    gdpr = gdpr[: gdpr.index("</section>")]
    assert re.search(r"Signed declaration for a copy</th><td[^>]*>Not asked", gdpr)
    assert "EDPB Guidelines 01/2022" in gdpr
    texas = text[text.index('id="pack-us-tx"') :]
    texas = texas[: texas.index("</section>")]
    assert re.search(
        r"Signed declaration for a copy</th><td[^>]*>Asked <span class=\"pill\">own practice", texas
    )
