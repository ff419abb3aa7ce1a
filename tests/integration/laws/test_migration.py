"""Upgrading to 0021 turns the two-letter states stored on rights requests into ISO 3166-2
codes, on SQLite, PostgreSQL and MariaDB; downgrading turns them back."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import JSON, Boolean, Date, DateTime, Integer, MetaData, Table, create_engine
from sqlalchemy.engine import Engine

from rightful.migrations import _config


def _to(engine: Engine, target: str, *, down: bool = False) -> None:
    with engine.begin() as conn:
        cfg = _config(str(engine.url))
        cfg.attributes["connection"] = conn
        (command.downgrade if down else command.upgrade)(cfg, target)


def _filler(column: Any) -> Any:
    # Any value of the column's type: only `jurisdiction` matters to this migration.
    kind = column.type
    if isinstance(kind, DateTime):
        return datetime(2026, 12, 1, 12, tzinfo=UTC)
    if isinstance(kind, Date):
        return date(2026, 12, 1)
    if isinstance(kind, Boolean):
        return False
    if isinstance(kind, Integer):
        return 0
    if isinstance(kind, JSON):
        return {}
    return "{}"  # a string that is also JSON (MariaDB stores JSON as checked text)


def _requests(engine: Engine) -> Table:
    return Table("rights_requests", MetaData(), autoload_with=engine)


def _seed(engine: Engine, codes: dict[str, str]) -> None:
    table = _requests(engine)
    needed = [c for c in table.columns if not c.nullable and c.server_default is None]
    rows = [
        {
            **{c.name: _filler(c) for c in needed},
            "id": rid,
            "reference": f"R-{rid}",
            "jurisdiction": code,
        }
        for rid, code in codes.items()
    ]
    with engine.begin() as conn:
        conn.execute(table.insert(), rows)


def _codes(engine: Engine) -> dict[str, str]:
    table = _requests(engine)
    with engine.connect() as conn:
        return {r.id: r.jurisdiction for r in conn.execute(table.select())}


def _round_trip(url: str) -> None:
    engine = create_engine(url)
    try:
        _to(engine, "0020")
        _seed(engine, {"a": "CA", "b": "TX", "c": "DE", "d": "va"})
        _to(engine, "0021")
        # DE stored before the upgrade is Delaware: the form only ever offered US states.
        assert _codes(engine) == {"a": "US-CA", "b": "US-TX", "c": "US-DE", "d": "US-VA"}
        _seed(engine, {"e": "IE", "f": "US-OTHER"})
        _to(engine, "0020", down=True)
        assert _codes(engine) == {
            "a": "CA",
            "b": "TX",
            "c": "DE",
            "d": "VA",
            "e": "IE",
            "f": "US-OTHER",
        }
    finally:
        engine.dispose()


def test_sqlite_upgrade_and_downgrade(tmp_path: Path) -> None:
    _round_trip(f"sqlite:///{tmp_path / 'rightful.db'}")


@pytest.mark.parametrize("fixture", ["postgres_url", "mariadb_url"])
def test_server_databases_upgrade_and_downgrade(
    fixture: str, request: pytest.FixtureRequest
) -> None:
    _round_trip(request.getfixturevalue(fixture))
