"""DROP matching's walk from phone numbers to people (`matching._followed`), for rows that hold
no e-mail address of their own: every phone's people are those its walk alone finds, and the
rows read for all the phones at once are split through one index (`planning.Split`), each row
looked at as often for 20 phones as for 5."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from rightful.connectors.base import Row
from rightful.connectors.sql import dispose_all
from rightful.demo.estate import demo_urls
from rightful.drop import matching
from rightful.inventory.revision import load_map
from rightful.inventory.stores import Connectors
from rightful.rights.planning import build_plan, traverse
from tests.support.app import make_settings, prepare
from tests.support.looks import counting_traverse

KIND = "phone_number"
SHARED = "+15105550199"  # customers 2 and 3 share it (a household line)


def _walk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, n: int
) -> tuple[dict[matching.Place, set[str]], dict[matching.Place, set[str]], int]:
    """For the first `n` customers' phones: the walk of all at once, each phone's walk alone,
    and how often the busiest row read for all at once was looked at."""
    runtime = prepare(make_settings(tmp_path), people=40)
    shop = create_engine(demo_urls(runtime.settings.data_dir)["storefront"])
    with shop.begin() as conn:
        conn.execute(text("UPDATE customers SET phone = :p WHERE id IN (2, 3)"), {"p": SHARED})
        phones = conn.execute(
            text("SELECT id, phone FROM customers ORDER BY id LIMIT :n"), {"n": n}
        ).all()
    shop.dispose()
    seeds = {("storefront", "storefront:customers", str(i)): (KIND, p) for i, p in phones}
    counted, read = counting_traverse()

    with runtime.sessions() as session:
        data_map = load_map(session)
    steps = build_plan(data_map.datasets, system_of=data_map.system_of, identity_types=[KIND])
    try:
        with Connectors(runtime.settings, data_map.systems) as connectors:
            alone = {
                place: _emails(data_map, traverse(steps, {KIND: value}, connectors))
                for place, (_, value) in seeds.items()
            }
            monkeypatch.setattr(matching, "traverse", counted)
            together = matching._followed(data_map, seeds, connectors)
            monkeypatch.setattr(matching, "traverse", traverse)
    finally:
        runtime.engine.dispose()
        dispose_all()
    return together, alone, max(r.looks for r in read)


def _emails(data_map: Any, found: dict[str, list[Row]]) -> set[str]:
    return {
        str(row[f.name]).strip().lower()
        for address, rows in found.items()
        for row in rows
        for f in data_map.collections[address].fields
        if f.identity == "email" and row.get(f.name)
    }


def test_each_phone_leads_to_the_people_its_walk_alone_finds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    together, alone, _ = _walk(tmp_path, monkeypatch, 8)
    assert together == alone
    by_customer = {place[2]: emails for place, emails in together.items()}
    assert len(by_customer["2"]) == 2 and by_customer["2"] == by_customer["3"]
    assert all(len(by_customer[c]) == 1 for c in by_customer if c not in ("2", "3"))


def test_the_walk_looks_at_each_row_as_often_for_20_phones_as_for_5(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Each phone's share is looked up in one index of the rows read for all of them; before,
    # every phone's share compared every row again (4 times as often for 20 as for 5).
    _, _, few = _walk(tmp_path / "few", monkeypatch, 5)
    _, _, many = _walk(tmp_path / "many", monkeypatch, 20)
    assert many == few
