"""A Rightful store (SQLite, or PostgreSQL where the test asks) holding the seeded year."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from rightful.core.db import unit_of_work
from rightful.core.runtime import Runtime, build_runtime
from rightful.migrations import upgrade
from tests.integration.reports.seed import Seeded, seed_year
from tests.support.app import make_settings


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Runtime, Seeded]]:
    """A migrated store with the seeded year, on each database Rightful supports."""
    url = request.getfixturevalue("postgres_url") if request.param == "postgresql" else ""
    runtime = build_runtime(make_settings(tmp_path, database_url=url))
    upgrade(runtime.engine)
    with unit_of_work(runtime.sessions) as session:
        seeded = seed_year(session, runtime.settings)
    yield runtime, seeded
    runtime.engine.dispose()
