"""What an access package holds: every current record, no secret, counts that match, safe CSVs.

A small shop of our own: customers with secrets, a payment-card table shaped like the one in
Fides's example dataset, orders with items, and visits (events, limited by the period).
"""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from rightful.inventory.specs import CollectionSpec, FieldSpec, Reference
from rightful.rights.package import WITHHELD, assemble, render_zip

PERIOD = (date(2026, 1, 1), date(2026, 12, 1))  # "the last 12 months" of a request in December


def ref(collection: str, fld: str) -> tuple[Reference, ...]:
    return (Reference("shop", collection, fld, "from"),)


CUSTOMERS = CollectionSpec(
    dataset="shop",
    name="customers",
    label="Your account",
    fields=(
        FieldSpec("id", ("user.unique_id",), primary_key=True, data_type="integer"),
        FieldSpec("email", ("user.contact.email",), description="Sign-in address.", label="E-mail"),
        FieldSpec("password_hash", ("user.authorization.password",), label="Password"),
        FieldSpec("ssn", ("user.government_id.national_identification_number",), label="SSN"),
        FieldSpec("licence", ("user.government_id.drivers_license_number",), label="Licence"),
        FieldSpec("insurance_no", ("user.health_and_medical.insurance_beneficiary_id",)),
        FieldSpec("voiceprint", ("user.biometric.voice",)),
        FieldSpec("recovery_answer", ("user.authorization.credentials",)),
        FieldSpec("api_key", ("user",)),
        FieldSpec("shipping_note", ("user",), description="Note for the courier."),
    ),
)
# Shaped like payment_card in Fides's example dataset: the security code is plain user.financial.
CARDS = CollectionSpec(
    dataset="shop",
    name="payment_card",
    label="Saved cards",
    date_field="created",
    fields=(
        FieldSpec("id", ("system.operations",), primary_key=True),
        FieldSpec("customer_id", ("user.unique_id",), references=ref("customers", "id")),
        FieldSpec("ccn", ("user.financial.account_number",), label="Card number"),
        FieldSpec("code", ("user.financial",), label="Security code"),
        FieldSpec("name", ("user.financial",), label="Name on the card"),
        FieldSpec("card_token", ("user.unique_id.pseudonymous",), label="Payment token"),
        FieldSpec("billing_postal_code", ("user.contact.address.postal_code",), label="ZIP"),
        FieldSpec("created", ("system.operations",)),
    ),
)
SUBSCRIPTIONS = CollectionSpec(
    dataset="shop",
    name="subscriptions",
    date_field="updated",
    fields=(
        FieldSpec("id", ("system.operations",), primary_key=True),
        FieldSpec("customer_id", ("user.unique_id",), references=ref("customers", "id")),
        FieldSpec("topic", ("user.privacy_preferences",), values={"news": "Product news"}),
        FieldSpec("updated", ("system.operations",)),
    ),
)
ORDERS = CollectionSpec(
    dataset="shop",
    name="orders",
    label="Orders",
    record="Order placed {placed_at}",
    date_field="placed_at",
    fields=(
        FieldSpec("id", ("system.operations",), primary_key=True, label="Order number"),
        FieldSpec("customer_id", ("user.unique_id",), references=ref("customers", "id")),
        FieldSpec("placed_at", ("user.behavior.purchase_history",)),
        FieldSpec("total", ("user.behavior.purchase_history",), label="Total", currency="USD"),
    ),
)
ITEMS = CollectionSpec(
    dataset="shop",
    name="order_items",
    label="Items",
    within="shop:orders",
    fields=(
        FieldSpec("id", ("system.operations",), primary_key=True),
        FieldSpec("order_id", ("system.operations",), references=ref("orders", "id")),
        FieldSpec("product", ("user.behavior.purchase_history",), label="Product"),
        FieldSpec("review", ("user.content.public",), label="Your review"),
    ),
)
VISITS = CollectionSpec(
    dataset="shop",
    name="visits",
    label="Visits",
    date_field="at",
    events=True,
    fields=(
        FieldSpec("id", ("system.operations",), primary_key=True),
        FieldSpec("customer_id", ("user.unique_id",), references=ref("customers", "id")),
        FieldSpec("at", ("user.behavior.browsing_history",), label="Visited"),
        FieldSpec("pages", ("user.behavior.browsing_history",), label="Pages seen"),
    ),
)
COLLECTIONS = [CUSTOMERS, CARDS, SUBSCRIPTIONS, ORDERS, ITEMS, VISITS]

CUSTOMER = {
    "id": 1,
    "email": "a@example.com",
    "password_hash": "$argon2id$secret",
    "ssn": "123-45-6789",
    "licence": "D1234567",
    "insurance_no": "INS-555-1212",
    "voiceprint": "vp:0b1e",
    "recovery_answer": "Biscuit",
    "api_key": "ak_live_51Hsecret",
    "shipping_note": "Leave by the door",
}
CARD = {
    "id": 7,
    "customer_id": 1,
    "ccn": "4242424242424242",
    "code": "737",
    "name": "Avery Q",
    "card_token": "tok_1NxYz",
    "billing_postal_code": "94107",
    "created": "2023-08-13T12:00:00",
}
SECRETS = [CUSTOMER[k] for k in list(CUSTOMER)[2:9]] + ["4242424242424242", "737", "tok_1NxYz"]


def found() -> dict[str, list[dict[str, Any]]]:
    return {
        "shop:customers": [dict(CUSTOMER)],
        "shop:payment_card": [dict(CARD)],
        "shop:subscriptions": [
            {"id": 3, "customer_id": 1, "topic": "news", "updated": "2023-08-13T12:00:00"}
        ],
        "shop:orders": [
            {"id": 2, "customer_id": 1, "placed_at": "2026-06-01T10:00:00", "total": 24.5},
            {"id": 1, "customer_id": 1, "placed_at": "2021-06-01T10:00:00", "total": 129.0},
        ],
        "shop:order_items": [
            {"id": 11, "order_id": 1, "product": "Hub", "review": '=HYPERLINK("x")'},
            {"id": 12, "order_id": 2, "product": "Bulb", "review": "+1 would buy"},
            {"id": 13, "order_id": 2, "product": "Plug", "review": "-ish, @home, fine"},
        ],
        "shop:visits": [
            {"id": 31, "customer_id": 1, "at": "2025-03-01T09:00:00", "pages": 3},
            {"id": 32, "customer_id": 1, "at": "2026-05-01T09:00:00", "pages": 5},
            {"id": 33, "customer_id": 1, "at": "2026-12-15T09:00:00", "pages": 2},
        ],
    }


@dataclass
class Package:
    files: dict[str, bytes]
    counts: dict[str, int]

    @property
    def data(self) -> dict[str, Any]:
        return json.loads(self.files["data.json"])  # type: ignore[no-any-return]

    @property
    def page(self) -> str:
        return self.files["index.html"].decode()

    @property
    def page_text(self) -> str:
        """The page as words, markup removed."""
        body = self.page[self.page.index("<body>") :]
        words = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body))
        return re.sub(r" ([.,:;)])", r"\1", words)

    def rows(self, collection: str) -> list[dict[str, Any]]:
        return self.data["data"]["Shop"].get(collection, [])  # type: ignore[no-any-return]

    def csv_rows(self, collection: str) -> list[dict[str, str]]:
        return list(csv.DictReader(io.StringIO(self.files[f"csv/Shop/{collection}.csv"].decode())))


def build(
    collections: list[CollectionSpec] | None = None,
    period: tuple[date | None, date | None] = PERIOD,
) -> Package:
    colls = {c.address: c for c in collections or COLLECTIONS}
    content = assemble(
        {a: rows for a, rows in found().items() if a in colls},
        colls,
        system_names={"shop": "Shop"},
        category_names={"user.contact": "Contact Data", "user.behavior": "Observed Behavior"},
        date_from=period[0],
        date_to=period[1],
    )
    meta = {"reference": "R-1", "type": "Access", "received": "2026-12-01", "company": "Co"}
    data = render_zip(content, meta={**meta, "privacy_email": "p@co.example"})
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return Package({n: zf.read(n) for n in zf.namelist()}, content.counts)


# --- 5. the package holds what we hold ----------------------------------------------------------


def test_records_still_held_are_in_the_package_whatever_their_date() -> None:
    package = build()
    assert [c["id"] for c in package.rows("payment_card")] == [7]  # saved in 2023
    assert [s["id"] for s in package.rows("subscriptions")] == [3]  # chosen in 2023
    assert [o["id"] for o in package.rows("orders")] == [1, 2]  # 2021 and 2026


def test_the_period_limits_only_collections_marked_as_events() -> None:
    assert [v["id"] for v in build().rows("visits")] == [32]
    assert [v["id"] for v in build(period=(None, None)).rows("visits")] == [31, 32, 33]


def test_a_row_an_included_row_points_at_is_included() -> None:
    # Orders marked as events: the 2021 order is outside the period, but its item is held.
    as_events = [replace(c, events=True) if c is ORDERS else c for c in COLLECTIONS]
    package = build(as_events)
    orders = {o["id"] for o in package.rows("orders")}
    assert {i["order_id"] for i in package.rows("order_items")} <= orders
    assert orders == {1, 2}


def test_counts_are_the_rows_in_the_package() -> None:
    package = build()
    in_json = {f"shop:{c}": len(rows) for c, rows in package.data["data"]["Shop"].items()}
    in_csv = {
        f"shop:{n.split('/')[-1].removesuffix('.csv')}": len(package.csv_rows(n[9:-4]))
        for n in package.files
        if n.startswith("csv/")
    }
    assert package.counts == in_json == in_csv
    assert package.counts["shop:visits"] == 1


# --- 6. secrets stay out ------------------------------------------------------------------------


def test_no_secret_is_in_any_file_of_the_package() -> None:
    package = build()
    for name, content in package.files.items():
        for secret in SECRETS:
            assert secret.encode() not in content, f"{secret} is in {name}"


def test_secrets_read_as_held_in_data_json_and_ordinary_values_stay() -> None:
    package = build()
    customer, card = package.rows("customers")[0], package.rows("payment_card")[0]
    assert customer["password_hash"] == customer["ssn"] == customer["api_key"] == WITHHELD
    assert card["ccn"] == card["code"] == card["card_token"] == WITHHELD
    assert (card["name"], card["billing_postal_code"]) == ("Avery Q", "94107")
    assert customer["shipping_note"] == "Leave by the door"  # "ship-ping" holds no "pin"
    withheld = {(w["collection"], w["field"]) for w in package.data["withheld"]}
    assert ("payment_card", "code") in withheld and ("customers", "voiceprint") in withheld
    assert ("payment_card", "name") not in withheld


def test_the_page_says_per_kind_what_we_hold_but_do_not_show() -> None:
    text = build().page_text
    assert "We hold card data: card number, security code, payment token (Saved cards)" in text
    assert "We hold your sign-in details: password, recovery answer (Your account)" in text
    assert "We hold government ID numbers: SSN, licence (Your account)" in text
    assert "We hold health insurance or medical ID numbers" in text
    assert "We hold biometric data" in text
    assert "We hold security keys and tokens: api key (Your account)" in text


# --- 7. readable means readable -----------------------------------------------------------------


def test_each_order_shows_with_its_items_and_total_and_without_ids() -> None:
    text = build().page_text
    assert "Order placed June 1, 2021 Total $129.00 Items Product Your review Hub" in text
    assert "Order placed June 1, 2026 Total $24.50 Items Product Your review Bulb" in text
    for internal in ("Order number", "order_id", "customer_id", "Customer id"):
        assert internal not in text


def test_the_page_uses_the_data_maps_words_not_field_names_or_descriptions() -> None:
    text = build().page_text
    assert "E-mail a@example.com" in text and "Sign-in address" not in text
    assert "Product news" in text and "news" not in text.replace("Product news", "")
    # Without a label, the field's description, else its name in words.
    assert "Note for the courier Leave by the door" in text
    assert "We hold health insurance or medical ID numbers: insurance no (Your account)" in text


def test_sections_are_listed_in_a_table_of_contents_with_their_counts() -> None:
    page = build().page
    contents = page[page.index('id="contents-title"') : page.index("</nav>")]
    listed = re.findall(r'<a href="#[^"]+">([^<]+)</a> <span class="muted">\((\d+)\)', contents)
    assert listed == [
        ("Orders", "2"),
        ("Saved cards", "1"),
        ("Subscriptions", "1"),
        ("Visits", "1"),
        ("Your account", "1"),
    ]


def test_events_are_summarised_with_their_number_and_dates() -> None:
    text = build(period=(None, None)).page_text
    assert "3 recorded, from March 1, 2025 to December 15, 2026." in text


def test_the_categories_found_are_summarised() -> None:
    text = build().page_text
    assert "Contact Data E-mail, ZIP. See Saved cards, Your account." in text
    assert "Government id SSN, licence. See Your account." in text


# --- 8. spreadsheet-safe CSV --------------------------------------------------------------------


def test_csv_cells_that_a_spreadsheet_would_run_are_neutralised_and_json_keeps_them() -> None:
    package = build(period=(None, None))
    reviews = [r["review"] for r in package.csv_rows("order_items")]
    assert reviews == ['\'=HYPERLINK("x")', "'+1 would buy", "'-ish, @home, fine"]
    assert package.rows("order_items")[0]["review"] == '=HYPERLINK("x")'
    totals = [r["total"] for r in package.csv_rows("orders")]
    assert totals == ["129.0", "24.5"]  # numbers stay numbers
