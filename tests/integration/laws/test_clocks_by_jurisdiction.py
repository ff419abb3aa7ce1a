"""Requests from Texas, Virginia and Ireland, submitted through the API, each get their own
law's clocks; an unknown jurisdiction is a 422 naming the choices."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from rightful.core import clock
from rightful.core.db import unit_of_work
from rightful.core.errors import InvalidInputError
from rightful.rights import service
from rightful.rights.models import RightsRequest
from rightful.rights.schemas import RequestIn
from rightful.security.models import AuditEvent
from tests.support.app import AVERY, App, make_settings, prepare

ACCESS = {
    "request_type": "access",
    "declaration_signature": "Avery Quinn",
    "channel": "api",
    **AVERY,
}
# 05:30 UTC on Saturday 30 Jan 2027: still Friday the 29th in Texas (23:30 CST), already
# the 30th in Virginia and in Ireland.
MOMENT = datetime(2027, 1, 30, 5, 30, tzinfo=UTC)


@pytest.fixture
def frozen() -> Iterator[None]:
    clock.freeze(MOMENT)
    yield
    clock.freeze(None)


def _submit(app: App, jurisdiction: str, **more: object) -> dict[str, object]:
    r = app.client.post(
        "/api/v1/rights-requests",
        headers=app.auth,
        json={**ACCESS, "jurisdiction": jurisdiction, **more},
    )
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


@pytest.mark.usefixtures("frozen")
@pytest.mark.parametrize(
    ("given", "code", "acknowledge", "respond"),
    [
        # Fri 29 Jan + 45 days = 15 Mar; ten business days = Fri 12 Feb.
        ("US-TX", "US-TX", "2027-02-12", "2027-03-15"),
        # Sat 30 Jan + 45 days = 16 Mar; a legacy two-letter code is still read.
        ("VA", "US-VA", "2027-02-12", "2027-03-16"),
        # 30 Jan + 1 month = 28 Feb (no 30th), a Sunday: Monday 1 Mar. The acknowledgement
        # skips St Brigid's Day (Mon 1 Feb), an Irish public holiday: Mon 15 Feb.
        ("ie", "IE", "2027-02-15", "2027-03-01"),
    ],
)
def test_each_request_gets_its_own_laws_clock(
    rightful_app: App, given: str, code: str, acknowledge: str, respond: str
) -> None:
    created = _submit(rightful_app, given)
    assert created["jurisdiction"] == code
    assert created["acknowledge_due"] == acknowledge
    assert created["respond_due"] == respond


@pytest.mark.usefixtures("frozen")
def test_an_irish_extension_gives_two_more_months(rightful_app: App) -> None:
    created = _submit(rightful_app, "IE")
    r = rightful_app.client.post(
        f"/api/v1/rights-requests/{created['id']}/extend",
        headers=rightful_app.auth,
        json={"reason": "Your request covers many years of records in several systems."},
    )
    assert r.status_code == 200, r.text
    # 30 Jan + 3 months = 30 Apr 2027, a Friday.
    assert r.json()["respond_due"] == "2027-04-30"


@pytest.mark.usefixtures("frozen")
def test_a_californian_opt_out_is_due_in_15_business_days_and_cannot_be_extended(
    rightful_app: App,
) -> None:
    created = _submit(rightful_app, "US-CA", request_type="opt_out_sale")
    # Fri 29 Jan in California: 15 business days skip Presidents' Day (15 Feb): 22 Feb.
    assert created["respond_due"] == "2027-02-22"
    r = rightful_app.client.post(
        f"/api/v1/rights-requests/{created['id']}/extend",
        headers=rightful_app.auth,
        json={"reason": "We need more time to reach every system that holds your data."},
    )
    assert r.status_code == 409
    assert r.headers["content-type"] == "application/problem+json"


def test_an_unknown_jurisdiction_is_a_422_naming_the_choices(rightful_app: App) -> None:
    r = rightful_app.client.post(
        "/api/v1/rights-requests",
        headers=rightful_app.auth,
        json={**ACCESS, "jurisdiction": "US-ZZ"},
    )
    assert r.status_code == 422
    assert r.headers["content-type"] == "application/problem+json"
    error = r.json()["errors"][0]
    assert error["field"] == "jurisdiction"
    assert "US-TX" in error["message"] and "US-OTHER" in error["message"]
    with rightful_app.runtime.sessions() as session:
        assert session.scalars(select(RightsRequest)).first() is None


def test_a_right_the_law_lacks_is_honoured_and_recorded_as_voluntary(rightful_app: App) -> None:
    created = _submit(rightful_app, "US-TX", request_type="limit_sensitive")
    with rightful_app.runtime.sessions() as session:
        event = session.scalars(
            select(AuditEvent).where(
                AuditEvent.action == "request.received", AuditEvent.subject_id == created["id"]
            )
        ).one()
    assert event.detail["granted_by_law"] is False
    assert event.detail["jurisdiction"] == "US-TX"


def _create(tmp_path: Path, jurisdiction: str, kind: str, **settings: object) -> RightsRequest:
    runtime = prepare(make_settings(tmp_path, **settings), people=3)
    data = RequestIn.model_validate({**ACCESS, "request_type": kind, "jurisdiction": jurisdiction})
    with unit_of_work(runtime.sessions) as session:
        req = service.create_request(session, runtime.settings, data)
        session.expunge(req)
    return req


def test_per_law_scope_refuses_a_kind_the_law_does_not_grant_naming_the_law(
    tmp_path: Path,
) -> None:
    with pytest.raises(InvalidInputError, match="Texas Data Privacy and Security Act"):
        _create(tmp_path, "US-TX", "limit_sensitive", rights_scope="per_law")


def test_strictest_mode_gives_a_texan_the_shortest_opt_out_clock(tmp_path: Path) -> None:
    clock.freeze(MOMENT)
    try:
        req = _create(tmp_path, "US-TX", "opt_out_sale", rules_mode="strictest")
    finally:
        clock.freeze(None)
    # Per law: Texas's 45 days (15 Mar). Strictest: New Jersey's 15 days from Fri 29 Jan.
    assert req.respond_due.isoformat() == "2027-02-13"
