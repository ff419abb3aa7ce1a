"""Rightful's `rightful:` keys that shape the access package are read and checked like the rest."""

from __future__ import annotations

import pytest
import yaml

from rightful.core.errors import InventoryError
from rightful.inventory.service import apply_files
from rightful.inventory.specs import dataset_from_document
from rightful.security.permissions import system_actor
from tests.support.app import App

CRM = """
dataset:
  - fides_key: crm
    name: CRM
    collections:
      - name: contacts
        rightful: {label: Your profile, position: 1}
        fields:
          - name: id
            data_categories: [user.unique_id]
            fides_meta: {primary_key: true, data_type: integer}
          - name: email
            rightful: {label: E-mail address}
            data_categories: [user.contact.email]
            fides_meta: {identity: email}
      - name: calls
        rightful: {date_field: called_at, events: true, label: Calls, within: contacts}
        fields:
          - name: contact_id
            data_categories: [user.unique_id]
            fides_meta:
              references: [{dataset: crm, field: contacts.id, direction: from}]
          - name: called_at
            data_categories: [system.operations]
          - name: outcome
            rightful: {label: What happened, values: {vm: Voicemail}, hidden: false}
            data_categories: [user.content.private]
"""


def problems(app: App, text: str) -> list[str]:
    with app.runtime.sessions() as session, pytest.raises(InventoryError) as caught:
        apply_files(session, files=[("crm.yml", text)], actor=system_actor("test"))
    return [p["message"] for p in caught.value.errors]


def test_the_keys_are_read_into_the_data_map(rightful_app: App) -> None:
    with rightful_app.runtime.sessions() as session:
        apply_files(session, files=[("crm.yml", CRM)], actor=system_actor("test"))
        session.commit()
    contacts, calls = dataset_from_document(yaml.safe_load(CRM)["dataset"][0]).collections
    assert (contacts.label, contacts.position, contacts.field("email").label) == (  # type: ignore[union-attr]
        "Your profile",
        1,
        "E-mail address",
    )
    assert (calls.events, calls.within, calls.field("outcome").values) == (  # type: ignore[union-attr]
        True,
        "crm:contacts",
        {"vm": "Voicemail"},
    )


def test_a_misspelt_key_is_named(rightful_app: App) -> None:
    found = problems(rightful_app, CRM.replace("events: true", "event: true"))
    assert any("unknown key 'event'" in p for p in found), found


def test_events_need_a_date_field(rightful_app: App) -> None:
    found = problems(rightful_app, CRM.replace("date_field: called_at, ", ""))
    assert "events: true needs a date_field saying when each row happened" in found


def test_within_must_name_a_collection_this_one_references(rightful_app: App) -> None:
    found = problems(rightful_app, CRM.replace("within: contacts", "within: calls"))
    assert "within 'crm:calls' is not a collection this one references" in found


def test_a_record_heading_names_fields_that_exist(rightful_app: App) -> None:
    found = problems(rightful_app, CRM.replace("label: Calls,", "label: Calls, record: '{when}',"))
    assert "record names '{when}', which is not a field" in found


def test_values_must_be_a_mapping(rightful_app: App) -> None:
    found = problems(rightful_app, CRM.replace("values: {vm: Voicemail}", "values: [vm]"))
    assert "rightful: values must map stored values to words" in found
