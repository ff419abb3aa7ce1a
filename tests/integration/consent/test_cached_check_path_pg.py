"""A consent check whose token and answer a process holds is answered on its event loop, with
no statement and no thread; a token revoked by another process stops working there as soon as
the revocation commits (the change feed), within `api_token_cache_seconds` without the feed,
and at once with the token cache off (PostgreSQL)."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import psycopg
import pytest
from anyio import to_thread
from fastapi.testclient import TestClient
from psycopg import sql
from sqlalchemy import event, make_url, update

from rightful.consent import check_cache
from rightful.core.clock import utcnow
from rightful.core.db import unit_of_work
from rightful.security import checked_tokens
from rightful.security.models import ApiToken
from rightful.web.app import create_app
from tests.support.app import App, make_settings, officer_token, prepare

pytestmark = pytest.mark.postgres

CHECK = "/api/v1/consent/check"
ASK = {"email": "robin@example.com", "purpose": "marketing.offers", "channel": "email"}

# Another process revoking the token through Rightful, as `rightful staff token revoke` does.
REVOKE = """
import sys
from rightful.core.config import Settings
from rightful.core.db import unit_of_work
from rightful.core.runtime import build_runtime
from rightful.security.api_tokens import revoke_token
from rightful.security.permissions import system_actor

url, secret, data_dir, prefix = sys.argv[1:]
runtime = build_runtime(Settings(database_url=url, secret_key=secret, data_dir=data_dir))
with unit_of_work(runtime.sessions) as session:
    revoke_token(session, prefix=prefix, actor=system_actor("test"))
"""


class Checks:
    """Rightful on PostgreSQL with both caches on, one person's choice, and what it sends."""

    def __init__(self, app: App, url: str) -> None:
        self.app = app
        self.url = url
        self.statements: list[str] = []
        event.listen(app.runtime.engine, "before_cursor_execute", self._count)

    def _count(self, _conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        self.statements.append(statement)

    def check(self) -> int:
        """One check's status; the answer for the person is "allowed" whenever it is 200."""
        answer = self.app.client.post(CHECK, json=ASK, headers=self.app.auth)
        if answer.status_code == 200:
            assert answer.json() == {"allowed": True, "state": "given", "reason": "consent given"}
        return answer.status_code

    def listening(self) -> None:
        """Wait until this process's change feed listens (the first check starts it)."""
        cache = check_cache.for_engine(self.app.runtime.engine, self.app.runtime.settings)
        assert cache is not None
        for _ in range(500):
            if cache.live:
                return
            time.sleep(0.01)
        raise AssertionError("the change feed never listened")

    def revoke_in_another_process(self) -> None:
        settings = self.app.runtime.settings
        prefix = self.app.token.split("_")[1]
        args = [self.url, settings.secret_key, str(settings.data_dir), prefix]
        subprocess.run([sys.executable, "-c", REVOKE, *args], check=True, timeout=120)

    def revoke_unannounced(self) -> None:
        """A revocation made with plain SQL: no process is told."""
        with unit_of_work(self.app.runtime.sessions) as session:
            session.execute(update(ApiToken).values(revoked_at=utcnow()))


def _checks(tmp_path: Path, url: str, token_seconds: float) -> Iterator[Checks]:
    checked_tokens.forget()
    settings = make_settings(
        tmp_path,
        database_url=url,
        consent_cache_seconds=60,
        api_token_cache_seconds=token_seconds,
    )
    runtime = prepare(settings, people=2)
    token = officer_token(runtime)
    with TestClient(create_app(runtime, start_worker=False)) as client:
        app = App(runtime, client, token)
        choice = {"purpose": "marketing.offers", "channel": "email", "state": "given"}
        made = client.post(
            "/api/v1/consent/events",
            json={"email": ASK["email"], "choices": [choice]},
            headers=app.auth,
        )
        assert made.status_code == 201, made.text
        yield Checks(app, url)
    checked_tokens.forget()
    runtime.engine.dispose()


@pytest.fixture
def checks(tmp_path: Path, postgres_url: str) -> Iterator[Checks]:
    yield from _checks(tmp_path, postgres_url, 60)


def test_a_held_check_sends_no_statement(checks: Checks) -> None:
    assert checks.check() == 200  # reads the token and the answer, and keeps both
    checks.listening()
    assert checks.check() == 200  # the feed is new: kept from now on
    checks.statements.clear()
    for _ in range(5):
        assert checks.check() == 200
    assert checks.statements == []


def test_a_held_check_is_answered_while_every_worker_thread_is_busy(checks: Checks) -> None:
    assert checks.check() == 200
    checks.listening()
    assert checks.check() == 200
    portal = checks.app.client.portal
    assert portal is not None
    limiter = portal.call(to_thread.current_default_thread_limiter)
    holders = [object() for _ in range(int(limiter.total_tokens))]
    for holder in holders:  # what long bulk checks in flight do to the thread pool
        portal.call(limiter.acquire_on_behalf_of, holder)
    answered: list[int] = []
    asking = threading.Thread(target=lambda: answered.append(checks.check()), daemon=True)
    try:
        asking.start()
        asking.join(timeout=30)
        assert answered == [200]  # a check sent to a thread would still be waiting for one
    finally:
        for holder in holders:
            portal.call(_release, limiter, holder)
        asking.join(timeout=30)


async def _release(limiter: anyio.CapacityLimiter, holder: object) -> None:
    limiter.release_on_behalf_of(holder)


def test_a_token_revoked_by_another_process_stops_working_when_it_commits(
    checks: Checks,
) -> None:
    assert checks.check() == 200
    checks.listening()
    assert checks.check() == 200
    checks.revoke_in_another_process()
    # The bound is 60 s: only the change feed can make the very next calls refuse it.
    for _ in range(200):
        if checks.check() == 401:
            break
        time.sleep(0.01)
    assert checks.check() == 401


def test_a_token_revoked_unannounced_is_refused_once_the_bound_has_passed(
    tmp_path: Path, postgres_url: str
) -> None:
    for checks in _checks(tmp_path, postgres_url, 1):
        assert checks.check() == 200
        checks.listening()
        assert checks.check() == 200
        checks.revoke_unannounced()
        time.sleep(1.2)  # the bound (1 s) and a little more
        assert checks.check() == 401


def test_with_the_token_cache_off_a_revoked_token_is_refused_at_once(
    tmp_path: Path, postgres_url: str
) -> None:
    for checks in _checks(tmp_path, postgres_url, 0):
        assert checks.check() == 200
        checks.listening()
        assert checks.check() == 200
        checks.revoke_unannounced()
        assert checks.check() == 401


def test_a_listener_that_keeps_failing_forgets_the_process_tokens_once(
    make_postgres_db: Any,
) -> None:
    """A store gone for good (here: dropped) leaves its listener retrying; each retry must not
    make the whole process forget its tokens again, or no token stays held anywhere in it."""
    url = make_postgres_db()
    cache = check_cache.CheckCache(60, check_cache._conninfo(make_url(url)))
    cache.start()
    try:
        _wait_for(lambda: cache.live, "the listener never connected")
        where = make_url(url)
        admin = f"host={where.host} port={where.port} user=postgres dbname=postgres"
        with psycopg.connect(admin, autocommit=True) as conn:
            drop = sql.SQL("DROP DATABASE {} WITH (FORCE)")
            conn.execute(drop.format(sql.Identifier(where.database)))
        _wait_for(lambda: not cache.live, "the listener never noticed")
        forgotten = checked_tokens.ticket()
        tried = cache.attempts
        _wait_for(lambda: cache.attempts >= tried + 2, "the listener stopped retrying")
        assert checked_tokens.ticket() == forgotten
    finally:
        cache.stop()


def test_an_app_shutting_down_stops_its_change_feed(tmp_path: Path, postgres_url: str) -> None:
    settings = make_settings(tmp_path, database_url=postgres_url, consent_cache_seconds=60)
    runtime = prepare(settings, people=2)
    cache = check_cache.for_engine(runtime.engine, runtime.settings)
    assert cache is not None
    with TestClient(create_app(runtime, start_worker=False)):
        _wait_for(lambda: cache.live, "the listener never connected")
    assert cache.stopped and not cache.live
    runtime.engine.dispose()


def _wait_for(condition: Any, what: str) -> None:
    for _ in range(1000):
        if condition():
            return
        time.sleep(0.01)
    raise AssertionError(what)
