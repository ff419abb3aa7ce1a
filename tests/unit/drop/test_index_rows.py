"""Which columns the index reads for each DROP list, and the hashes one row gives."""

from __future__ import annotations

from datetime import date

from rightful.drop.hashing import ListType
from rightful.drop.index import Indexable, _entries, drop_fields
from rightful.inventory.specs import dataset_from_document

DATASET = {
    "fides_key": "broker",
    "name": "Broker records",
    "collections": [
        {
            "name": "people",
            "fields": [
                {"name": "id", "fides_meta": {"primary_key": True, "data_type": "integer"}},
                {"name": "mail", "data_categories": ["user.contact.email"]},
                {"name": "given", "data_categories": ["user.name.first"]},
                {"name": "family", "data_categories": ["user.name.last"]},
                {"name": "born", "data_categories": ["user.demographic.date_of_birth"]},
                {"name": "zip", "data_categories": ["user.contact.address.postal_code"]},
                {"name": "car", "data_categories": ["user.vehicle.vin"]},
            ],
        }
    ],
}


def test_a_collection_holding_every_field_of_the_composites_is_indexed_for_them() -> None:
    people = dataset_from_document(DATASET).collections[0]
    fields = drop_fields(people)
    item = Indexable("broker", people, "id", fields)
    assert set(item.lists) == {ListType.EMAIL, ListType.NDZ, ListType.NAME_VIN}
    row = {
        "id": 7,
        "mail": " Danielle@Example.com ",
        "given": "Danielle",
        "family": "Johnson",
        "born": date(1985, 7, 4),
        "zip": "91790-3771",
        "car": "1HGCM82633A004352",
    }
    hashes = {e["list_type"]: e["hash"] for e in _entries(item, [row])}
    # The NDZ of DROP's published example: Danielle Johnson, July 4, 1985, 91790.
    assert hashes["NDZ"] == "PQOfn1RffEKmqMmNAzDKKaoZCwxWbQZkQzPWmQo9REA="
    assert {e["row_key"] for e in _entries(item, [row])} == {"7"}


def test_a_row_missing_a_composite_field_gives_only_the_lists_it_can() -> None:
    people = dataset_from_document(DATASET).collections[0]
    item = Indexable("broker", people, "id", drop_fields(people))
    row = {"id": 8, "mail": "a@b.example", "given": "A", "family": "B", "born": None,
           "zip": "94107", "car": None}  # fmt: skip
    assert [e["list_type"] for e in _entries(item, [row])] == ["Email"]
