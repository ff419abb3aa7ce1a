"""The same datasets executed on SQLite, PostgreSQL and MariaDB give the same package."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest

from rightful.connectors.sql import dispose_all
from rightful.demo.estate import SYSTEMS
from tests.support.app import access_package, make_settings, prepare


def package_data(tmp_path: Path, estate_url: str | None) -> dict[str, object]:
    settings = make_settings(tmp_path)
    urls = {key: estate_url for key in SYSTEMS} if estate_url else None
    runtime = prepare(settings, urls, people=60)
    try:
        _, data = access_package(runtime)
    finally:
        runtime.engine.dispose()
        dispose_all()
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        payload = json.loads(zf.read("data.json"))
        csvs = {n: zf.read(n).decode() for n in zf.namelist() if n.endswith(".csv")}
    return {"data": payload["data"], "withheld": payload["withheld"], "csv": csvs}


@pytest.mark.postgres
@pytest.mark.mariadb
def test_sqlite_postgres_and_mariadb_give_the_same_package(
    tmp_path: Path, postgres_url: str, mariadb_url: str
) -> None:
    on_sqlite = package_data(tmp_path / "sqlite", None)
    on_postgres = package_data(tmp_path / "pg", postgres_url)
    on_mariadb = package_data(tmp_path / "maria", mariadb_url)
    assert on_sqlite["data"]["Online store"]["customers"][0]["email"] == "avery.quinn@example.com"  # type: ignore[index]
    assert len(on_sqlite["csv"]) == 11  # type: ignore[arg-type]
    assert on_postgres == on_sqlite
    assert on_mariadb == on_sqlite


def test_a_shared_phone_number_never_brings_in_someone_elses_records(tmp_path: Path) -> None:
    from sqlalchemy import create_engine, text

    settings = make_settings(tmp_path)
    runtime = prepare(settings, people=60)
    # Another customer with Avery's phone number (families and businesses share numbers).
    store = create_engine(f"sqlite:///{tmp_path}/estate/storefront.db")
    with store.begin() as conn:
        conn.execute(text("UPDATE customers SET phone = '+14155550134' WHERE id = 2"))
    store.dispose()
    try:
        _, data = access_package(runtime)
    finally:
        runtime.engine.dispose()
        dispose_all()
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        customers = json.loads(zf.read("data.json"))["data"]["Online store"]["customers"]
    assert [c["email"] for c in customers] == ["avery.quinn@example.com"]
