"""The data map is read once a transaction and cached per process by revision, yet a change is
seen by the next request, from this process or another, on SQLite and PostgreSQL.

Two runtimes on one store stand for two server processes: the one that changes the data map
never reads it, so the other's cached copy is stale unless the revision is honoured."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from rightful.connectors.sql import dispose_all
from rightful.core.db import unit_of_work
from rightful.core.runtime import Runtime, build_runtime
from rightful.inventory import service as inventory
from rightful.inventory.revision import load_map
from rightful.security.permissions import system_actor
from rightful.security.vault import Vault
from tests.support.app import make_settings, prepare


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def two_processes(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[Runtime, Runtime]]:
    overrides: dict[str, Any] = {}
    if request.param == "postgres":
        overrides["database_url"] = request.getfixturevalue("postgres_url")
    here = prepare(make_settings(tmp_path, **overrides))
    there = build_runtime(here.settings)
    yield here, there
    here.engine.dispose()
    there.engine.dispose()
    dispose_all()


def _point_elsewhere(runtime: Runtime, session: Any, system: str) -> None:
    inventory.set_connection(
        session,
        Vault(runtime.settings, "connections"),
        system_key=system,
        url=f"sqlite:///{runtime.settings.data_dir}/elsewhere.db",
        actor=system_actor("test"),
    )


def test_a_transaction_reads_the_revision_once_and_the_next_sees_any_change(
    two_processes: tuple[Runtime, Runtime],
) -> None:
    here, there = two_processes
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    with unit_of_work(here.sessions) as session:
        load_map(session)  # fills this process's cache
    event.listen(here.engine, "before_cursor_execute", count)
    with unit_of_work(here.sessions) as session:
        first, again = load_map(session), load_map(session)
    event.remove(here.engine, "before_cursor_execute", count)
    assert again is first
    assert len(statements) == 1 and "data_map_revision" in statements[0]

    # Held for the transaction, never past a change: from this transaction or another process.
    with unit_of_work(here.sessions) as session:
        before = load_map(session).systems["storefront"]
        held = load_map(session)
        # The same transaction changes the map: what it reads next is the change.
        _point_elsewhere(here, session, "support_desk")
        changed = load_map(session).systems["support_desk"].connection_secret
        assert changed != held.systems["support_desk"].connection_secret
    with unit_of_work(there.sessions) as session:
        _point_elsewhere(there, session, "storefront")
    with unit_of_work(here.sessions) as session:
        after = load_map(session).systems["storefront"]
    assert after.connection_secret != before.connection_secret
    settings = inventory.connection_settings(Vault(here.settings, "connections"), after)
    assert settings is not None and settings["url"].endswith("/elsewhere.db")
