"""Application fixtures: a migrated Rightful with the demo company's data map on small estates."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from rightful.connectors.sql import dispose_all
from rightful.core.config import Settings
from rightful.core.db import unit_of_work
from rightful.core.runtime import Runtime, build_runtime
from rightful.demo.estate import build_estate, demo_urls
from rightful.demo.setup import load_data_map
from rightful.migrations import upgrade
from rightful.security.permissions import system_actor
from rightful.security.service import create_api_token, create_staff
from rightful.web.app import create_app

STAFF_EMAIL = "officer@lumen.example"
STAFF_PASSWORD = "correct horse battery staple"


@dataclass
class App:
    """A running Rightful for a test: runtime, HTTP client and an API token."""

    runtime: Runtime
    client: TestClient
    token: str

    @property
    def auth(self) -> dict[str, str]:
        """Bearer header for the API."""
        return {"Authorization": f"Bearer {self.token}"}


def make_settings(tmp_path: Path, **overrides: object) -> Settings:
    """Settings for a test: its own data dir and a random secret."""
    values: dict[str, object] = {
        "data_dir": tmp_path,
        "secret_key": secrets.token_urlsafe(40),
        "base_url": "http://testserver",
        "require_approval": True,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


def prepare(
    settings: Settings, estate_urls: dict[str, str] | None = None, people: int = 40
) -> Runtime:
    """Migrate, build the demo estate (SQLite unless URLs given), load the data map, add staff."""
    runtime = build_runtime(settings)
    upgrade(runtime.engine)
    urls = estate_urls or demo_urls(settings.data_dir)
    build_estate(urls, people=people)
    load_data_map(runtime, urls)
    return runtime


def officer_token(runtime: Runtime) -> str:
    """A staff member (Olive Officer, admin) added to the store, and an API token of hers."""
    with unit_of_work(runtime.sessions) as session:
        staff = create_staff(
            session,
            email=STAFF_EMAIL,
            name="Olive Officer",
            password=STAFF_PASSWORD,
            actor=system_actor("test"),
        )
        return create_api_token(session, staff=staff, name="tests", actor=system_actor("test"))


@pytest.fixture
def rightful_app(tmp_path: Path) -> Iterator[App]:
    """Rightful on SQLite with the demo estate; no SMTP, no background worker."""
    runtime = prepare(make_settings(tmp_path))
    token = officer_token(runtime)
    with TestClient(create_app(runtime, start_worker=False)) as client:
        yield App(runtime, client, token)
    runtime.engine.dispose()
    dispose_all()


def code_from(message: EmailMessage | str) -> str:
    """The 6-digit code in an e-mail."""
    text = message if isinstance(message, str) else message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    found = re.search(r"\b(\d{6})\b", text)
    assert found, "no 6-digit code in the e-mail"
    return found.group(1)


def link_from(message: EmailMessage | str, path: str) -> str:
    """The first link in an e-mail whose path starts with `path`."""
    text = message if isinstance(message, str) else message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    found = re.search(rf"https?://[^\s]+{re.escape(path)}[^\s]+", text)
    assert found, f"no {path} link in the e-mail"
    return found.group(0)


AVERY = {
    "email": "avery.quinn@example.com",
    "phone_number": "415-555-0134",
    "name": "Avery Quinn",
    "postal_code": "94107",
}


def latest_code(runtime: Runtime, request_id: str) -> str:
    """The code in the newest e-mail of a request (read from the outbox)."""
    from rightful.messaging.service import list_outbox, open_letter

    with runtime.sessions() as session:
        letters = [
            open_letter(runtime.settings, m) for m in list_outbox(session, request_id=request_id)
        ]
    return code_from(next(m.text for m in letters if re.search(r"\b\d{6}\b", m.text)))


def access_package(
    runtime: Runtime, identities: dict[str, str] | None = None, request_type: str = "access"
) -> tuple[str, bytes]:
    """Submit, verify with the e-mailed code, approve and execute; returns (id, zip bytes)."""
    from rightful.rights import flows, service
    from rightful.rights.execution import run_request
    from rightful.rights.package import load
    from rightful.rights.packaging import package_vault
    from rightful.rights.schemas import RequestIn

    data = RequestIn(
        request_type=request_type,
        declaration_signature="Avery Quinn",  # type: ignore[arg-type]
        date_range="all",
        **(identities or AVERY),
    )
    with unit_of_work(runtime.sessions) as session:
        request_id = flows.submit(session, runtime.settings, data, client="test").id
    with unit_of_work(runtime.sessions) as session:
        assert (
            flows.verify(
                session,
                runtime.settings,
                request_id=request_id,
                code=latest_code(runtime, request_id),
            ).error
            is None
        )
    with unit_of_work(runtime.sessions) as session:
        service.approve_request(
            session, runtime.settings, request_id=request_id, actor=system_actor("test")
        )
    assert run_request(runtime.sessions, runtime.settings, request_id) == "completed"
    with runtime.sessions() as session:
        req = service.access_request(session, request_id)
        assert req.package_file
        return request_id, load(
            package_vault(runtime.settings), runtime.settings.package_dir, req.package_file
        )
