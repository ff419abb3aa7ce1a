"""Limits on public endpoints are counted for every process together: a client that used up
its share on one server is refused by another, whether the counts live in Redis or in
Rightful's own store (SQLite or PostgreSQL)."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event

import rightful.demo
from rightful.consent import catalog
from rightful.core import clock
from rightful.core.db import unit_of_work
from rightful.core.runtime import Runtime, build_runtime
from rightful.migrations import upgrade
from rightful.security import rate_limits
from rightful.web.app import create_app
from tests.support.app import make_settings

LIMIT = 3
DEMO_CATALOGUE = Path(rightful.demo.__file__).parent / "consent.yml"
Servers = Callable[..., tuple[TestClient, TestClient]]


@pytest.fixture
def two_servers(tmp_path: Path) -> Iterator[Servers]:
    """Two app instances (as two server processes would be) on one store, one secret."""
    runtimes: list[Runtime] = []
    clients: list[TestClient] = []

    def make(database_url: str = "", redis_url: str = "") -> tuple[TestClient, TestClient]:
        secret = secrets.token_urlsafe(40)
        pair = []
        for name in ("a", "b"):
            settings = make_settings(
                tmp_path / name,
                secret_key=secret,
                database_url=database_url or f"sqlite:///{tmp_path}/shared.db",
                redis_url=redis_url,
                banner_events_per_minute=LIMIT,
            )
            runtime = build_runtime(settings)
            upgrade(runtime.engine)
            with unit_of_work(runtime.sessions) as session:  # the demo's cookie categories
                catalog.apply(session, catalog.parse(DEMO_CATALOGUE.read_text()))
            runtimes.append(runtime)
            client = TestClient(create_app(runtime, start_worker=False))
            clients.append(client.__enter__())
            pair.append(client)
        return pair[0], pair[1]

    yield make
    for client in clients:
        client.__exit__(None, None, None)
    for runtime in runtimes:
        runtime.engine.dispose()


def choose(client: TestClient, events: int = 1) -> int:
    one = {
        "device_id": secrets.token_urlsafe(16),
        "jurisdiction": "FR",
        "choices": {"targeting": True},
    }
    body = one if events == 1 else {"events": [one] * events}
    return client.post("/consent/events", json=body).status_code


def refused_by_the_other_after_the_limit(a: TestClient, b: TestClient) -> None:
    assert [choose(a) for _ in range(LIMIT)] == [200] * LIMIT
    assert choose(b) == 429  # server b counts what server a allowed


def test_the_store_shares_the_banner_limit_between_servers_on_sqlite(two_servers: Servers) -> None:
    refused_by_the_other_after_the_limit(*two_servers())


def test_the_store_shares_the_banner_limit_between_servers_on_postgresql(
    two_servers: Servers, postgres_url: str
) -> None:
    refused_by_the_other_after_the_limit(*two_servers(database_url=postgres_url))


def test_redis_shares_the_banner_limit_between_servers(
    two_servers: Servers, redis_url: str
) -> None:
    a, b = two_servers(redis_url=redis_url)
    refused_by_the_other_after_the_limit(a, b)
    # The counts are in Redis, not in the store both servers use.
    with a.app.state.runtime.sessions() as session:  # type: ignore[attr-defined]
        assert session.query(rate_limits.RateLimitWindow).count() == 0


def test_every_event_of_a_batch_counts_and_a_refused_batch_counts_nothing(
    two_servers: Servers,
) -> None:
    a, b = two_servers()
    assert choose(a, events=2) == 200
    assert choose(b, events=2) == 429  # 2 + 2 would pass 3
    assert choose(b, events=1) == 200  # the refused batch took no place


@pytest.mark.parametrize("backend", ["store", "redis"])
def test_a_client_is_let_in_again_once_its_hits_leave_the_window(
    two_servers: Servers, request: pytest.FixtureRequest, backend: str
) -> None:
    redis_url = request.getfixturevalue("redis_url") if backend == "redis" else ""
    a, b = two_servers(redis_url=redis_url)
    start = clock.utcnow()
    clock.freeze(start)
    try:
        refused_by_the_other_after_the_limit(a, b)
        clock.freeze(start + timedelta(seconds=59))
        assert choose(b) == 429  # still inside the minute
        clock.freeze(start + timedelta(seconds=61))
        assert choose(b) == 200
    finally:
        clock.freeze(None)


class Commits:
    """Commits, and statements naming the limits' table, sent by both servers' engines."""

    def __init__(self, *clients: TestClient) -> None:
        self.engines = [c.app.state.runtime.engine for c in clients]  # type: ignore[attr-defined]
        self.commits = 0
        self.on_limits = 0

    def _commit(self, *_: object) -> None:
        self.commits += 1

    def _statement(self, *args: object) -> None:
        self.on_limits += "rate_limit_windows" in str(args[2])

    def __enter__(self) -> Commits:
        for engine in self.engines:
            event.listen(engine, "commit", self._commit)
            event.listen(engine, "before_cursor_execute", self._statement)
        return self

    def __exit__(self, *exc: object) -> None:
        for engine in self.engines:
            event.remove(engine, "commit", self._commit)
            event.remove(engine, "before_cursor_execute", self._statement)


@pytest.mark.parametrize("backend", ["store", "redis"])
def test_the_limit_is_counted_in_the_write_and_commits_once_a_request(
    two_servers: Servers, postgres_url: str, request: pytest.FixtureRequest, backend: str
) -> None:
    redis_url = request.getfixturevalue("redis_url") if backend == "redis" else ""
    a, b = two_servers(database_url=postgres_url, redis_url=redis_url)
    choose(a)  # each process's first request reads its catalogue
    choose(b)
    with Commits(a, b) as counted:
        assert choose(a) == 200
        assert counted.commits == 1  # the events and their count, together
        assert choose(b) == 429  # LIMIT taken, on the other server
        assert counted.commits == 1  # a refusal commits nothing
    # Redis keeps the counts: not one statement on the store's table for them.
    assert counted.on_limits == (0 if backend == "redis" else 4)
