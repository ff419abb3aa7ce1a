"""A migrated PostgreSQL store for the audit log's one-statement tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from rightful.core.db import make_engine
from rightful.migrations import upgrade


@pytest.fixture
def engine(postgres_url: str) -> Iterator[Engine]:
    made = make_engine(postgres_url)
    upgrade(made)
    yield made
    made.dispose()
