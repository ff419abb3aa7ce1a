"""Packages withhold what must never be disclosed and keep to the requested period."""

import io
import json
import zipfile
from datetime import date

from rightful.inventory.specs import CollectionSpec, FieldSpec
from rightful.rights.package import WITHHELD, assemble, render_zip

CUSTOMERS = CollectionSpec(
    dataset="shop",
    name="customers",
    fields=(
        FieldSpec("id", ("user.unique_id",), primary_key=True, data_type="integer"),
        FieldSpec("email", ("user.contact.email",), description="E-mail address"),
        FieldSpec("password_hash", ("user.authorization.password",), description="Password"),
        FieldSpec("ssn", ("user.government_id.national_identification_number",), description="SSN"),
    ),
)
ORDERS = CollectionSpec(
    dataset="shop",
    name="orders",
    date_field="placed_at",
    fields=(
        FieldSpec("id", ("system.operations",), primary_key=True),
        FieldSpec("placed_at", ("user.behavior.purchase_history",)),
    ),
)
COLLS = {c.address: c for c in (CUSTOMERS, ORDERS)}
FOUND = {
    "shop:customers": [
        {
            "id": 1,
            "email": "a@example.com",
            "password_hash": "$argon2id$secret",
            "ssn": "123-45-6789",
        }
    ],
    "shop:orders": [
        {"id": 2, "placed_at": "2021-06-01 10:00:00"},
        {"id": 1, "placed_at": "2026-06-01 10:00:00"},
    ],
}


def build(start: date | None) -> dict[str, object]:
    content = assemble(
        FOUND,
        COLLS,
        system_names={"shop": "Shop"},
        category_names={},
        date_from=start,
        date_to=date(2026, 12, 1),
    )
    data = render_zip(
        content,
        meta={
            "reference": "R-1",
            "type": "Access",
            "received": "2026-12-01",
            "company": "Co",
            "privacy_email": "p@co.example",
        },
    )
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        text = "".join(zf.read(n).decode() for n in zf.namelist())
        return {"json": json.loads(zf.read("data.json")), "all": text}


def test_passwords_and_government_ids_are_withheld_but_declared() -> None:
    out = build(None)
    customer = out["json"]["data"]["Shop"]["customers"][0]  # type: ignore[index]
    assert customer["password_hash"] == WITHHELD and customer["ssn"] == WITHHELD
    assert "$argon2id$secret" not in out["all"] and "123-45-6789" not in out["all"]  # type: ignore[operator]
    assert {w["field"] for w in out["json"]["withheld"]} == {"Password", "SSN"}  # type: ignore[index]
    assert "a@example.com" in out["all"]  # type: ignore[operator]


def test_rows_before_the_period_are_left_out_and_rows_are_sorted() -> None:
    orders = build(date(2025, 12, 1))["json"]["data"]["Shop"]["orders"]  # type: ignore[index]
    assert [o["id"] for o in orders] == [1]
    everything = build(None)["json"]["data"]["Shop"]["orders"]  # type: ignore[index]
    assert [o["id"] for o in everything] == [1, 2]
