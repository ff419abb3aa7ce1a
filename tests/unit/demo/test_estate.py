"""The demo company's estate: featured people, determinism, and its data map annotations."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from fideslang.models import Dataset
from sqlalchemy import DateTime, create_engine, select

from rightful.demo import estate
from rightful.demo.estate import FEATURED_PEOPLE, SYSTEMS, build_estate, demo_urls, estate_metadata

DATASETS = Path(estate.__file__).parent / "datasets"
TABLES = [(system, name) for system, md in estate_metadata().items() for name in md.tables]
Rows = dict[str, list[dict[str, Any]]]


def _build(folder: Path, seed: int = 7) -> dict[str, str]:
    urls = demo_urls(folder)
    build_estate(urls, people=50, seed=seed)
    return urls


def _dump(urls: dict[str, str]) -> Rows:
    """Every row of every table, in id order, keyed by table name."""
    rows: Rows = {}
    for system, md in estate_metadata().items():
        engine = create_engine(urls[system])
        with engine.connect() as conn:
            for table in md.sorted_tables:
                result = conn.execute(select(table).order_by(table.c.id)).mappings()
                rows[table.name] = [dict(row) for row in result]
        engine.dispose()
    return rows


def _collections(system: str) -> dict[str, dict[str, Any]]:
    document = yaml.safe_load((DATASETS / f"{system}.yml").read_text())
    return {c["name"]: c for c in document["dataset"][0]["collections"]}


def _fields(system: str, collection: str) -> dict[str, dict[str, Any]]:
    return {f["name"]: f for f in _collections(system)[collection]["fields"]}


def _owned_by(rows: Rows, table: str, customer_id: int, email: str) -> list[dict[str, Any]]:
    """The rows of `table` that belong to one customer, following the estate's links."""

    def where(name: str, column: str, values: set[Any]) -> list[dict[str, Any]]:
        return [row for row in rows[name] if row[column] in values]

    if table in ("customers", "marketing_subscriptions"):
        return where(table, "email", {email})
    if table == "order_items":
        orders = where("orders", "customer_id", {customer_id})
        return where(table, "order_id", {o["id"] for o in orders})
    if table == "chat_messages":
        tickets = where("support_tickets", "customer_id", {customer_id})
        return where(table, "ticket_id", {t["id"] for t in tickets})
    if table == "web_sessions":
        devices = where("devices", "customer_id", {customer_id})
        return where(table, "device_id", {d["device_id"] for d in devices})
    return where(table, "customer_id", {customer_id})


@pytest.fixture(scope="module")
def estate_rows(tmp_path_factory: pytest.TempPathFactory) -> Rows:
    return _dump(_build(tmp_path_factory.mktemp("estate")))


@pytest.mark.parametrize(("system", "table"), TABLES)
@pytest.mark.parametrize("customer_id", [1, 2])
def test_featured_people_have_rows_in_every_table(
    estate_rows: Rows, system: str, table: str, customer_id: int
) -> None:
    email = FEATURED_PEOPLE[customer_id - 1].email
    assert _owned_by(estate_rows, table, customer_id, email), f"{system}.{table}"


def test_avery_is_customer_one_with_her_phone_in_e164(estate_rows: Rows) -> None:
    avery = estate_rows["customers"][0]
    assert (avery["id"], avery["email"], avery["phone"]) == (
        1,
        "avery.quinn@example.com",
        "+14155550134",
    )


def test_the_estate_holds_the_requested_number_of_people(estate_rows: Rows) -> None:
    assert len(estate_rows["customers"]) == 50


def test_every_email_is_unique_and_on_an_example_domain(estate_rows: Rows) -> None:
    emails = [row["email"] for row in estate_rows["customers"]]
    assert len(set(emails)) == len(emails)
    assert {e.split("@")[1] for e in emails} <= {"example.com", "example.org", "example.net"}


def test_building_twice_with_the_same_seed_gives_identical_rows(tmp_path: Path) -> None:
    assert _dump(_build(tmp_path / "a")) == _dump(_build(tmp_path / "b"))


def test_rebuilding_in_place_replaces_the_old_rows(tmp_path: Path) -> None:
    _build(tmp_path / "reused", seed=1)
    assert _dump(_build(tmp_path / "reused")) == _dump(_build(tmp_path / "fresh"))


def test_a_different_seed_gives_different_people(tmp_path: Path) -> None:
    first, second = _dump(_build(tmp_path / "a")), _dump(_build(tmp_path / "b", seed=8))
    assert first["customers"][2:] != second["customers"][2:]


@pytest.mark.parametrize(("system", "table"), TABLES)
def test_dataset_fields_are_exactly_the_table_columns(system: str, table: str) -> None:
    columns = estate_metadata()[system].tables[table].columns.keys()
    assert list(_fields(system, table)) == list(columns)


@pytest.mark.parametrize("system", SYSTEMS)
def test_dataset_collections_are_exactly_the_tables(system: str) -> None:
    assert set(_collections(system)) == set(estate_metadata()[system].tables)


@pytest.mark.parametrize("system", SYSTEMS)
def test_dataset_is_valid_fideslang_keyed_by_system(system: str) -> None:
    document = yaml.safe_load((DATASETS / f"{system}.yml").read_text())
    assert [Dataset(**d).fides_key for d in document["dataset"]] == [system]


@pytest.mark.parametrize(("system", "table"), TABLES)
def test_dataset_lengths_match_column_lengths(system: str, table: str) -> None:
    columns = estate_metadata()[system].tables[table].columns
    for name, field in _fields(system, table).items():
        length = field.get("fides_meta", {}).get("length")
        assert length == getattr(columns[name].type, "length", None), name


@pytest.mark.parametrize(("system", "table"), TABLES)
def test_every_reference_points_at_an_existing_column(system: str, table: str) -> None:
    for field in _fields(system, table).values():
        for ref in field.get("fides_meta", {}).get("references", []):
            collection, column = ref["field"].split(".")
            assert column in estate_metadata()[ref["dataset"]].tables[collection].columns
            assert ref["direction"] == "from"


@pytest.mark.parametrize(
    ("system", "table", "column", "identity"),
    [
        ("storefront", "customers", "email", "email"),
        ("storefront", "customers", "phone", "phone_number"),
        ("support_desk", "support_tickets", "customer_email", "email"),
        ("engagement", "marketing_subscriptions", "email", "email"),
    ],
)
def test_identity_fields_are_where_a_search_can_start(
    system: str, table: str, column: str, identity: str
) -> None:
    assert _fields(system, table)[column]["fides_meta"]["identity"] == identity


@pytest.mark.parametrize(("system", "table"), TABLES)
def test_date_fields_name_a_datetime_column(system: str, table: str) -> None:
    date_field = _collections(system)[table].get("rightful", {}).get("date_field")
    columns = estate_metadata()[system].tables[table].columns
    assert date_field is None or isinstance(columns[date_field].type, DateTime)


def test_time_series_collections_name_their_date_field() -> None:
    found = {
        f"{system}.{name}": c["rightful"]["date_field"]
        for system in SYSTEMS
        for name, c in _collections(system).items()
        if "date_field" in c.get("rightful", {})
    }
    assert found == {
        "storefront.orders": "placed_at",
        "storefront.payment_methods": "created_at",
        "storefront.product_reviews": "created_at",
        "support_desk.support_tickets": "opened_at",
        "support_desk.chat_messages": "sent_at",
        "engagement.marketing_subscriptions": "updated_at",
        "engagement.web_sessions": "started_at",
    }


def test_only_visits_and_messages_are_events_a_period_limits() -> None:
    events = {
        f"{system}.{name}"
        for system in SYSTEMS
        for name, c in _collections(system).items()
        if c.get("rightful", {}).get("events")
    }
    assert events == {"engagement.web_sessions", "support_desk.chat_messages"}


@pytest.mark.parametrize(("system", "table"), TABLES)
def test_every_field_has_a_label_a_customer_understands(system: str, table: str) -> None:
    unlabelled = [
        n for n, f in _fields(system, table).items() if not f.get("rightful", {}).get("label")
    ]
    assert unlabelled == []
