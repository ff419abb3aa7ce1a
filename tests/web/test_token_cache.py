"""An API token checked once is trusted for `api_token_cache_seconds` in that process (no
statement for it), and a token revoked elsewhere is refused once the bound has passed; one
revoked, deactivated or re-roled in this process is refused at once."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, update

from rightful.connectors.sql import dispose_all
from rightful.core.clock import utcnow
from rightful.core.db import unit_of_work
from rightful.core.runtime import Runtime
from rightful.security import checked_tokens
from rightful.security.api_tokens import revoke_token
from rightful.security.models import ApiToken
from rightful.security.permissions import system_actor
from rightful.security.service import create_api_token, create_staff
from rightful.web.app import create_app
from tests.support.app import make_settings, prepare


@dataclass
class Api:
    runtime: Runtime
    client: TestClient
    token: str
    statements: list[str]

    def call(self) -> int:
        headers = {"Authorization": f"Bearer {self.token}"}
        return self.client.get("/api/v1/rights-requests", headers=headers).status_code

    def revoke_elsewhere(self) -> None:
        """What another process (the CLI, another server) does: this one is not told."""
        with unit_of_work(self.runtime.sessions) as session:
            session.execute(update(ApiToken).values(revoked_at=utcnow()))


def _api(tmp_path: Path, seconds: float) -> Iterator[Api]:
    checked_tokens.forget()
    runtime = prepare(make_settings(tmp_path, api_token_cache_seconds=seconds), people=5)
    with unit_of_work(runtime.sessions) as session:
        staff = create_staff(
            session,
            email="officer@lumen.example",
            name="Olive Officer",
            password="correct horse battery staple",
            actor=system_actor("test"),
        )
        token = create_api_token(session, staff=staff, name="tests", actor=system_actor("test"))
    found = Api(runtime, TestClient(create_app(runtime, start_worker=False)), token, [])

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        found.statements.append(statement)

    event.listen(runtime.engine, "before_cursor_execute", count)
    yield found
    checked_tokens.forget()
    runtime.engine.dispose()
    dispose_all()


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    yield from _api(tmp_path, 60)


@pytest.fixture
def api_one_second(tmp_path: Path) -> Iterator[Api]:
    yield from _api(tmp_path, 1)


def _token_reads(statements: list[str]) -> int:
    return sum("FROM api_tokens" in s for s in statements)


def test_a_token_checked_once_is_not_read_again_within_the_bound(api: Api) -> None:
    assert api.call() == 200
    assert _token_reads(api.statements) == 1
    api.statements.clear()
    assert api.call() == 200
    assert _token_reads(api.statements) == 0


def test_a_token_revoked_by_another_process_is_refused_once_the_bound_has_passed(
    api_one_second: Api,
) -> None:
    api = api_one_second
    assert api.call() == 200
    api.revoke_elsewhere()
    time.sleep(1.2)  # the bound (1 s) and a little more
    assert api.call() == 401


def test_a_token_revoked_in_this_process_is_refused_at_once(api: Api) -> None:
    assert api.call() == 200
    with unit_of_work(api.runtime.sessions) as session:
        revoke_token(session, prefix=api.token.split("_")[1], actor=system_actor("test"))
    assert api.call() == 401


def test_without_a_bound_every_call_reads_the_token(tmp_path: Path) -> None:
    for api in _api(tmp_path, 0):
        assert api.call() == 200
        api.revoke_elsewhere()
        assert api.call() == 401
