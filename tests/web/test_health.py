"""Liveness and readiness as a load balancer or an orchestrator calls them: no token, against
the real store (SQLite and PostgreSQL) and a real or really unreachable Celery broker."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text

from rightful.core.runtime import Runtime, build_runtime
from rightful.migrations import shipped, upgrade
from rightful.security.models import AuditEvent
from rightful.web.app import create_app
from tests.support.app import make_settings
from tests.support.services import service_unavailable

RABBITMQ = os.environ.get("RIGHTFUL_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672//")


def _closed_port() -> int:
    """A loopback port nothing listens on: bound, then released, so connecting is refused."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(tmp_path: Path, *, migrate: bool = True, **settings: Any) -> Iterator[TestClient]:
    runtime = build_runtime(make_settings(tmp_path, **settings))
    if migrate:
        upgrade(runtime.engine)
    with TestClient(create_app(runtime, start_worker=False)) as client:
        yield client
    runtime.engine.dispose()


@pytest.fixture
def sqlite_client(tmp_path: Path) -> Iterator[TestClient]:
    yield from _serve(tmp_path)


def _audit_events(client: TestClient) -> int:
    runtime: Runtime = client.app.state.runtime  # type: ignore[attr-defined]
    with runtime.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(AuditEvent)) or 0)


def test_liveness_answers_without_a_token_cookie_or_store(sqlite_client: TestClient) -> None:
    answer = sqlite_client.get("/healthz")
    assert answer.status_code == 200
    assert answer.json() == {"status": "ok"}
    assert "set-cookie" not in answer.headers
    assert answer.headers["cache-control"] == "no-store"


def test_ready_names_each_check_on_sqlite_and_writes_nothing(sqlite_client: TestClient) -> None:
    before = _audit_events(sqlite_client)
    answers = [sqlite_client.get("/readyz") for _ in range(30)]  # a prober's rhythm: no throttle
    assert {a.status_code for a in answers} == {200}
    body = answers[0].json()
    assert body["status"] == "ready"
    assert set(body["checks"]) == {"store", "schema"}  # no broker configured: not checked
    assert all(c["ok"] for c in body["checks"].values())
    assert "set-cookie" not in answers[0].headers
    assert _audit_events(sqlite_client) == before


def test_ready_on_postgresql(tmp_path: Path, postgres_url: str) -> None:
    for client in _serve(tmp_path, database_url=postgres_url):
        answer = client.get("/readyz")
        assert answer.status_code == 200, answer.text
        assert answer.json()["checks"]["store"]["ok"] is True
        assert answer.json()["checks"]["schema"]["ok"] is True


def test_a_store_that_does_not_answer_is_not_ready_but_alive(tmp_path: Path) -> None:
    url = f"postgresql+psycopg://rightful:s3cret-word@127.0.0.1:{_closed_port()}/rightful"
    for client in _serve(tmp_path, migrate=False, database_url=url):
        assert client.get("/healthz").status_code == 200
        answer = client.get("/readyz")
        assert answer.status_code == 503
        assert answer.headers["content-type"] == "application/problem+json"
        body = answer.json()
        assert body["errors"][0]["field"] == "store"
        assert body["detail"].startswith("The store did not answer: connection refused")
        assert "s3cret-word" not in answer.text and "rightful:" not in answer.text


def test_a_store_behind_the_newest_migration_is_not_ready(tmp_path: Path) -> None:
    for client in _serve(tmp_path):
        runtime: Runtime = client.app.state.runtime  # type: ignore[attr-defined]
        with runtime.engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = '0028'"))
        answer = client.get("/readyz")
        assert answer.status_code == 503
        assert answer.json()["checks"]["store"]["ok"] is True
        schema = answer.json()["checks"]["schema"]
        assert schema["ok"] is False
        newest = ", ".join(sorted(shipped()[0]))
        assert schema["detail"] == (
            f"The store is at migration 0028; this Rightful needs {newest}: "
            "run `rightful db upgrade`."
        )


def test_a_missing_sqlite_store_is_reported_and_not_created(tmp_path: Path) -> None:
    for client in _serve(tmp_path, migrate=False):
        store = tmp_path / "rightful.db"
        store.unlink(missing_ok=True)
        answer = client.get("/readyz")
        assert answer.status_code == 503
        assert "does not exist" in answer.json()["checks"]["store"]["detail"]
        assert not store.exists()


def test_an_unreachable_broker_makes_readiness_fail_and_liveness_stay(tmp_path: Path) -> None:
    broker = f"redis://:broker-password@127.0.0.1:{_closed_port()}/0"
    for client in _serve(tmp_path, broker_url=broker):
        assert client.get("/healthz").status_code == 200
        answer = client.get("/readyz")
        assert answer.status_code == 503
        body = answer.json()
        assert [e["field"] for e in body["errors"]] == ["broker"]
        assert body["checks"]["store"]["ok"] is True
        assert "connection refused" in body["checks"]["broker"]["detail"]
        assert "broker-password" not in answer.text and "127.0.0.1" not in answer.text


def test_a_redis_broker_that_answers_is_ready(tmp_path: Path, redis_url: str) -> None:
    for client in _serve(tmp_path, broker_url=redis_url):
        answer = client.get("/readyz")
        assert answer.status_code == 200, answer.text
        assert answer.json()["checks"]["broker"] == {
            "ok": True,
            "detail": "The Celery broker (redis) takes connections.",
        }


def test_a_rabbitmq_broker_that_answers_is_ready(tmp_path: Path) -> None:
    from kombu import Connection

    try:
        with Connection(RABBITMQ, connect_timeout=2) as conn:
            conn.ensure_connection(max_retries=0, timeout=2)
    except Exception as exc:
        service_unavailable(f"RabbitMQ is not reachable at {RABBITMQ}: {exc}")
    for client in _serve(tmp_path, broker_url=RABBITMQ):
        answer = client.get("/readyz")
        assert answer.status_code == 200, answer.text
        assert answer.json()["checks"]["broker"]["ok"] is True
