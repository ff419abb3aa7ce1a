"""Migrations build the same schema as the models, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from rightful.all_models import Base
from rightful.migrations import upgrade


def assert_matches_models(url: str) -> None:
    engine = create_engine(url)
    upgrade(engine)
    upgrade(engine)  # running again changes nothing
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    tables = set(inspect(engine).get_table_names())
    engine.dispose()
    assert diff == []
    assert {"rights_requests", "execution_steps", "audit_events", "datasets"} <= tables


def test_sqlite_schema_matches_the_models(tmp_path: Path) -> None:
    assert_matches_models(f"sqlite:///{tmp_path}/store.db")


@pytest.mark.postgres
def test_postgres_schema_matches_the_models(postgres_url: str) -> None:
    assert_matches_models(postgres_url)
