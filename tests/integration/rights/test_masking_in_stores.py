"""Every masking strategy written to a real store and read back, on SQLite, PostgreSQL, MariaDB."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import (
    Column,
    Date,
    DateTime,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    create_engine,
    insert,
    select,
)

from rightful.connectors.base import RowChange
from rightful.connectors.sql import SQLConnector, dispose_all
from rightful.security.masking import mask_value

SECRET = "k" * 40
ORIGINAL = {
    "id": 1,
    "name": "Avery Quinn",
    "email": "avery@example.com",
    "street": "742 De Haro St",
    "born": date(1988, 3, 14),
    "seen": datetime(2024, 5, 6, 7, 8, 9),
    "zip": "94107",
    "lat": Decimal("37.774900"),
}
MASKS = {
    "name": ("string_rewrite", {"rewrite_value": "REMOVED"}),
    "email": ("hmac", {}),
    "street": ("redact", {}),
    "born": ("generalize_date", {}),
    "seen": ("generalize_date", {}),
    "zip": ("generalize_postcode", {"keep": 3}),
    "lat": ("generalize_coordinates", {"cell": "0.1"}),
}


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param("postgres", marks=pytest.mark.postgres),
        pytest.param("mariadb", marks=pytest.mark.mariadb),
    ]
)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/masking.db"
    return str(request.getfixturevalue(f"{request.param}_url"))


def test_each_strategy_reads_back_as_masked(store_url: str) -> None:
    engine = create_engine(store_url)
    meta = MetaData()
    people = Table(
        "people",
        meta,
        Column("id", Integer, primary_key=True),
        Column("name", String(100)),
        Column("email", String(100)),
        Column("street", String(100)),
        Column("born", Date),
        Column("seen", DateTime),
        Column("zip", String(10)),
        Column("lat", Numeric(9, 6)),
        Column("nulled", String(20)),
    )
    meta.create_all(engine)
    with engine.begin() as conn:
        conn.execute(insert(people), [{**ORIGINAL, "nulled": "x"}])
    values = {
        field: mask_value(strategy, ORIGINAL[field], config=config, secret=SECRET)
        for field, (strategy, config) in MASKS.items()
    }
    values["nulled"] = mask_value("null_rewrite", "x", secret=SECRET)
    connector = SQLConnector(store_url)
    assert connector.apply([RowChange.by_key("people", "id", 1, values)]) == {("people", ""): 1}
    connector.close()
    with engine.connect() as conn:
        row = conn.execute(select(people)).mappings().one()
    engine.dispose()
    dispose_all()
    assert row["name"] == "REMOVED"
    assert len(row["email"]) == 64 and "avery" not in row["email"]
    assert row["street"] == "*** ** **** **"
    assert row["born"] == date(1988, 1, 1)
    assert row["seen"] == datetime(2024, 1, 1)
    assert row["zip"] == "941"
    assert Decimal(str(row["lat"])) == Decimal("37.7")
    assert row["nulled"] is None
