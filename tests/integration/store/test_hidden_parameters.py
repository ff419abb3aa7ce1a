"""A failing statement's error never prints the values bound to it (they are personal data)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from rightful.connectors.sql import _engine, dispose_all
from rightful.core.db import make_engine

EMAIL = "jordan.rivers@example.com"


def _fails_with_a_duplicate(engine_url: str, make: object) -> str:
    engine = make(engine_url)  # type: ignore[operator]
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE people (email VARCHAR(100) PRIMARY KEY)"))
        conn.execute(text("INSERT INTO people VALUES (:e)"), {"e": EMAIL})
    with pytest.raises(IntegrityError) as err, engine.begin() as conn:
        conn.execute(text("INSERT INTO people VALUES (:e)"), {"e": EMAIL})
    engine.dispose()
    return str(err.value)


def test_rightfuls_own_store_hides_bound_values(tmp_path: Path) -> None:
    message = _fails_with_a_duplicate(f"sqlite:///{tmp_path}/own.db", make_engine)
    assert "hidden due to hide_parameters" in message and EMAIL not in message


def test_a_connectors_store_hides_bound_values(tmp_path: Path) -> None:
    message = _fails_with_a_duplicate(f"sqlite:///{tmp_path}/store.db", _engine)
    assert "hidden due to hide_parameters" in message and EMAIL not in message
    dispose_all()
