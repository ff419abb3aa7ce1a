"""Which migrations this Rightful ships and a store is at are read without Alembic (every
process asks as it starts): the answers are Alembic's own, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine

from rightful import migrations


def test_the_shipped_heads_and_revisions_are_alembics() -> None:
    script = ScriptDirectory(str(migrations.HERE))
    heads, known = migrations.shipped()
    assert heads == frozenset(script.get_heads())
    assert known == frozenset(r.revision for r in script.walk_revisions())


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "postgres":
        return str(request.getfixturevalue("postgres_url"))
    return f"sqlite:///{tmp_path / 'store.db'}"


def test_a_stores_migrations_are_read_as_alembic_reads_them(store_url: str) -> None:
    engine = create_engine(store_url)
    try:
        with engine.connect() as conn:
            assert migrations.current(conn) == frozenset()  # no tables yet
        migrations.upgrade(engine)
        with engine.connect() as conn:
            at = migrations.current(conn)
            assert at == frozenset(MigrationContext.configure(conn).get_current_heads())
        assert at == migrations.shipped()[0]
    finally:
        engine.dispose()
