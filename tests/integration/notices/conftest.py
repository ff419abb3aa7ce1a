"""Rightful with the demo company's whole data map (the paper archive too) and its notice file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from rightful.connectors.sql import dispose_all
from rightful.core.config import Settings
from rightful.core.db import unit_of_work
from rightful.demo.setup import NOTICE, PAPER_ARCHIVE
from rightful.demo.vendors import data_map_files as vendor_files
from rightful.inventory import service as inventory
from rightful.security.permissions import Role, system_actor
from rightful.security.service import create_api_token, create_staff
from rightful.web.app import create_app
from tests.support.app import STAFF_EMAIL, STAFF_PASSWORD, App, make_settings, prepare
from tests.support.services import SmtpTestServer

SOURCE = NOTICE.read_text()


def _lumen(settings: Settings) -> Iterator[App]:
    runtime = prepare(settings)
    with unit_of_work(runtime.sessions) as session:
        inventory.apply_files(  # the vendors' systems (not connected) and the paper archive
            session,
            files=[*vendor_files(), (PAPER_ARCHIVE.name, PAPER_ARCHIVE.read_text())],
            actor=system_actor("test"),
        )
        staff = create_staff(
            session,
            email=STAFF_EMAIL,
            name="Olive Officer",
            password=STAFF_PASSWORD,
            role=Role.ADMIN,
            actor=system_actor("test"),
        )
        token = create_api_token(session, staff=staff, name="tests", actor=system_actor("test"))
    with TestClient(create_app(runtime, start_worker=False)) as client:
        yield App(runtime, client, token)
    runtime.engine.dispose()
    dispose_all()


@pytest.fixture
def lumen(tmp_path: Path) -> Iterator[App]:
    """The demo company's data map as `demo setup` leaves it, an admin token, no notice yet."""
    yield from _lumen(make_settings(tmp_path))


@pytest.fixture
def lumen_on_postgres(tmp_path: Path, postgres_url: str) -> Iterator[App]:
    """The same, with Rightful's store on PostgreSQL."""
    yield from _lumen(make_settings(tmp_path, database_url=postgres_url))


@pytest.fixture
def lumen_with_smtp(tmp_path: Path, smtp_server: SmtpTestServer) -> Iterator[App]:
    """The same, sending mail to a real SMTP server."""
    yield from _lumen(make_settings(tmp_path, smtp_url=smtp_server.url))
