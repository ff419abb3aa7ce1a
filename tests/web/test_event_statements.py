"""Writing consent events on PostgreSQL costs a fixed number of statements: a banner batch of N
answers sends as many as a batch of 2 (one statement per table, not per event), and the shared
rate limit is counted inside the write's transaction (one commit a request)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event

import rightful.demo
from rightful.consent import catalog
from rightful.core.db import unit_of_work
from rightful.core.runtime import Runtime, build_runtime
from rightful.migrations import upgrade
from rightful.web.app import create_app
from tests.support.app import make_settings

pytestmark = pytest.mark.postgres

DEMO_CATALOGUE = Path(rightful.demo.__file__).parent / "consent.yml"


@pytest.fixture
def banner(tmp_path: Path, postgres_url: str) -> Iterator[tuple[TestClient, Runtime]]:
    settings = make_settings(tmp_path, database_url=postgres_url, banner_events_per_minute=10_000)
    runtime = build_runtime(settings)
    upgrade(runtime.engine)
    with unit_of_work(runtime.sessions) as session:
        catalog.apply(session, catalog.parse(DEMO_CATALOGUE.read_text()))
    with TestClient(create_app(runtime, start_worker=False)) as client:
        yield client, runtime
    runtime.engine.dispose()


class Counted:
    """Statements and commits sent to the store while a block runs."""

    def __init__(self, runtime: Runtime) -> None:
        self.statements: list[str] = []
        self.commits = 0
        self.engine = runtime.engine

    def _statement(self, *args: object) -> None:
        self.statements.append(str(args[2]))

    def _commit(self, *args: object) -> None:
        self.commits += 1

    def __enter__(self) -> Counted:
        event.listen(self.engine, "before_cursor_execute", self._statement)
        event.listen(self.engine, "commit", self._commit)
        return self

    def __exit__(self, *exc: object) -> None:
        event.remove(self.engine, "before_cursor_execute", self._statement)
        event.remove(self.engine, "commit", self._commit)


def answer(**extra: object) -> dict[str, object]:
    return {
        "device_id": secrets.token_urlsafe(16),
        "jurisdiction": "FR",
        "choices": {"targeting": True, "performance": False},
    } | extra


def post_batch(client: TestClient, runtime: Runtime, n: int) -> Counted:
    client.post("/consent/events", json={"events": [answer()]})  # warm the process's caches
    with Counted(runtime) as counted:
        response = client.post("/consent/events", json={"events": [answer() for _ in range(n)]})
    assert response.status_code == 200, response.text
    assert response.json()["recorded"] == 2 * n
    return counted


def test_a_banner_batch_sends_the_same_statements_whatever_its_size(
    banner: tuple[TestClient, Runtime],
) -> None:
    client, runtime = banner
    small = post_batch(client, runtime, 2)
    large = post_batch(client, runtime, 10)
    assert len(large.statements) == len(small.statements), large.statements
    assert large.commits == small.commits == 1


def test_a_single_banner_event_sends_no_more_than_a_batch(
    banner: tuple[TestClient, Runtime],
) -> None:
    client, runtime = banner
    client.post("/consent/events", json=answer())  # warm the process's caches
    with Counted(runtime) as single:
        assert client.post("/consent/events", json=answer()).status_code == 200
    batch = post_batch(client, runtime, 10)
    # The browser, the states and catalogue revision, the ledger's writes, the limit (2).
    assert len(single.statements) == len(batch.statements) == 5, single.statements
    assert single.commits == 1


def test_a_banner_batch_sends_the_same_statement_texts_whatever_its_size(
    banner: tuple[TestClient, Runtime],
) -> None:
    """A statement whose text changes with the number of rows is compiled again by SQLAlchemy
    and planned again by PostgreSQL (never prepared): grouped writes vary in size, so that was
    most of their CPU. Each column is one array instead."""
    client, runtime = banner
    small = post_batch(client, runtime, 2)
    large = post_batch(client, runtime, 7)
    assert small.statements == large.statements
