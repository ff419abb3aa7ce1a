"""Data-map files are checked as a whole, and every problem says where it is."""

import pytest

from rightful.core.errors import InventoryError
from rightful.inventory.service import apply_files
from rightful.security.permissions import system_actor
from tests.support.app import App

GOOD = """
dataset:
  - fides_key: crm
    name: CRM
    collections:
      - name: contacts
        fields:
          - name: id
            data_categories: [user.unique_id]
            fides_meta: {primary_key: true, data_type: integer}
          - name: email
            data_categories: [user.contact.email]
            fides_meta: {identity: email}
      - name: notes
        fields:
          - name: contact_id
            data_categories: [user.unique_id]
            fides_meta:
              references: [{dataset: crm, field: contacts.id, direction: from}]
          - name: body
            data_categories: [user.content.private]
"""


def apply(app: App, text: str, name: str = "crm.yml") -> None:
    with app.runtime.sessions() as session:
        apply_files(session, files=[(name, text)], actor=system_actor("test"))
        session.commit()


def problems(app: App, text: str) -> list[dict[str, str]]:
    with pytest.raises(InventoryError) as caught:
        apply(app, text)
    return caught.value.errors


def test_a_valid_dataset_is_saved(rightful_app: App) -> None:
    apply(rightful_app, GOOD)
    r = rightful_app.client.get("/api/v1/inventory", headers=rightful_app.auth)
    assert "crm" in [d["key"] for d in r.json()["datasets"]]


def test_unknown_category_names_file_collection_and_field(rightful_app: App) -> None:
    found = problems(rightful_app, GOOD.replace("user.content.private", "user.diary"))
    assert found == [
        {
            "file": "crm.yml",
            "dataset": "crm",
            "collection": "notes",
            "field": "body",
            "message": "unknown data category 'user.diary'",
        }
    ]


def test_dangling_reference_is_named(rightful_app: App) -> None:
    found = problems(rightful_app, GOOD.replace("field: contacts.id", "field: contacts.uid"))
    assert any(p["field"] == "contact_id" and "crm.contacts.uid" in p["message"] for p in found)


def test_unreachable_collection_is_named(rightful_app: App) -> None:
    text = GOOD.replace(
        "references: [{dataset: crm, field: contacts.id, direction: from}]", "data_type: integer"
    )
    found = problems(rightful_app, text)
    assert [p["collection"] for p in found] == ["notes"]
    assert "cannot be reached" in found[0]["message"]


def test_fideslang_format_errors_are_located(rightful_app: App) -> None:
    found = problems(rightful_app, GOOD.replace("identity: email", "identity: [1, 2]"))
    assert found[0]["collection"] == "contacts" and found[0]["field"] == "email"


def test_nothing_is_saved_when_any_file_has_a_problem(rightful_app: App) -> None:
    bad = GOOD.replace("fides_key: crm", "fides_key: crm2").replace("user.content.private", "nope")
    with pytest.raises(InventoryError), rightful_app.runtime.sessions() as session:
        apply_files(session, files=[("a.yml", GOOD), ("b.yml", bad)], actor=system_actor("test"))
    keys = [
        d["key"]
        for d in rightful_app.client.get("/api/v1/inventory", headers=rightful_app.auth).json()[
            "datasets"
        ]
    ]
    assert "crm" not in keys and "crm2" not in keys


def test_no_identity_anywhere_is_refused() -> None:
    import yaml

    from rightful.inventory.specs import dataset_from_document
    from rightful.inventory.validation import check_graph

    doc = yaml.safe_load(GOOD.replace("fides_meta: {identity: email}", "description: x"))
    specs = [dataset_from_document(d) for d in doc["dataset"]]
    found = check_graph(
        specs, categories={"user.unique_id", "user.contact.email", "user.content.private"}
    )
    assert "no field anywhere is marked as an identity" in found[0]["message"]


def test_invalid_yaml_is_reported_with_the_file_name(rightful_app: App) -> None:
    found = problems(rightful_app, "dataset: [unclosed")
    assert found[0]["file"] == "crm.yml" and "not valid YAML" in found[0]["message"]


def test_a_changed_data_map_is_seen_by_the_next_run(rightful_app: App) -> None:
    from rightful.inventory.revision import load_map

    with rightful_app.runtime.sessions() as session:
        before = load_map(session)
        assert load_map(session) is before  # unchanged: served from this process's cache
    apply(rightful_app, GOOD)
    with rightful_app.runtime.sessions() as session:
        after = load_map(session)
    assert after.revision > before.revision
    assert "crm:contacts" in after.collections and "crm:contacts" not in before.collections
