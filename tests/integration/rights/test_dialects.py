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
