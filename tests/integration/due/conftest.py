"""A Rightful with a real SMTP server, staff of three roles and requests held past their dates."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from rightful.connectors.sql import dispose_all
from rightful.core import clock
from rightful.core.db import unit_of_work
from rightful.rights import service
from rightful.rights.schemas import RequestIn
from rightful.security.permissions import system_actor
from rightful.security.service import create_api_token, create_staff
from rightful.web.app import create_app
from tests.support.app import STAFF_EMAIL, STAFF_PASSWORD, App, make_settings, prepare
from tests.support.services import SmtpTestServer

APPROVER = "ava.approver@lumen.example"
ANALYST = "andy.analyst@lumen.example"
# A Wednesday afternoon in California, nowhere near a holiday.
NOW = datetime(2027, 3, 10, 20, 0, tzinfo=UTC)


@pytest.fixture
def frozen() -> Iterator[datetime]:
    """The clock stands at NOW (tests move it on)."""
    clock.freeze(NOW)
    try:
        yield NOW
    finally:
        clock.freeze(None)


@pytest.fixture
def due_app(tmp_path: Path, smtp_server: SmtpTestServer, frozen: datetime) -> Iterator[App]:
    """Rightful sending mail to the test server; an admin, an approver and an analyst."""
    runtime = prepare(make_settings(tmp_path, smtp_url=smtp_server.url), people=5)
    with unit_of_work(runtime.sessions) as session:
        admin = create_staff(
            session,
            email=STAFF_EMAIL,
            name="Olive Officer",
            password=STAFF_PASSWORD,
            actor=system_actor("test"),
        )
        for email, name, role in (
            (APPROVER, "Ava Approver", "approver"),
            (ANALYST, "Andy Analyst", "analyst"),
        ):
            create_staff(
                session,
                email=email,
                name=name,
                password=STAFF_PASSWORD,
                actor=system_actor("test"),
                role=role,
            )
        token = create_api_token(session, staff=admin, name="tests", actor=system_actor("test"))
    with TestClient(create_app(runtime, start_worker=False)) as client:
        yield App(runtime, client, token)
    runtime.engine.dispose()
    dispose_all()


def held_request(app: App, *, days_ago: int, email: str = "avery.quinn@example.com") -> str:
    """A request received `days_ago` days before NOW and never acknowledged; its id."""
    data = RequestIn(request_type="know_categories", email=email)
    with unit_of_work(app.runtime.sessions) as session:
        req = service.create_request(
            session, app.runtime.settings, data, received_at=NOW - timedelta(days=days_ago)
        )
        return req.id
