"""HubSpot contacts masked through CRM v3's partial update: an erasure policy that masks a
contact clears its personal properties on the (local) HubSpot, one by one, under `properties`."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
import yaml

from rightful.connectors.base import FetchRequest, RowChange
from rightful.connectors.http import (
    HTTPConnector,
    complete_dataset,
    config_of,
    connect,
    shipped_dataset,
)
from rightful.core.errors import ConnectorError
from rightful.inventory.specs import dataset_from_document
from rightful.rights.erasure_confirm import in_effect
from rightful.rights.erasure_plan import api_refusals, member_systems, plan_collection
from rightful.rights.planning import Step, build_plan, traverse
from rightful.rights.policy import decide, parse_policy
from tests.connectors.apiserver import serving
from tests.connectors.vendor_apis import OTHER, PERSON, HubSpotAPI

# Contacts are masked (a policy may keep the contact and clear what names the person); the
# rest is deleted.
POLICY = parse_policy(
    """
policy:
  name: Mask CRM contacts
  rules:
    - categories: [user]
      action: mask
      strategy: hmac
"""
)


@pytest.fixture
def api() -> Iterator[HubSpotAPI]:
    with serving(HubSpotAPI()) as server:
        yield server


@pytest.fixture
def connector(api: HubSpotAPI) -> Iterator[HTTPConnector]:
    made = connect(
        {"shipped": "hubspot", "params": api.params(), "base_url": api.url, "rate_limits": False}
    )
    yield made
    made.close()


def contacts_step() -> tuple[list[Step], Step]:
    doc = yaml.safe_load(shipped_dataset("hubspot"))["dataset"][0]
    dataset = dataset_from_document(complete_dataset(config_of({"shipped": "hubspot"}), doc))
    steps = build_plan([dataset], system_of={"hubspot": "hubspot"}, identity_types=["email"])
    return steps, next(s for s in steps if s.collection.name == "contacts")


def test_masking_a_contact_clears_its_personal_properties_on_hubspot(
    api: HubSpotAPI, connector: HTTPConnector
) -> None:
    steps, step = contacts_step()
    refused = api_refusals(steps, POLICY, lambda _: connector)
    assert step.address not in refused  # an API call, not a manual task
    assert "hubspot:owners" in refused  # HubSpot's owners API has no update: a manual task
    decision = decide(step.collection, POLICY, date.today())
    assert decision.action == "mask_fields"
    found = traverse(steps, {"email": PERSON}, lambda _: connector)
    changes, item = plan_collection(
        step,
        found[step.address],
        decision,
        secret="s",
        tag="r1",
        retain_until=None,
        members=step.system in member_systems(steps, lambda _: connector),
    )
    assert [c.values for c in changes] == [
        {"properties.email": "", "properties.firstname": "", "properties.city": ""}
    ]  # members holding a value; phone is empty already, hs_object_id is not declared
    assert item["planned"] == 1

    assert connector.apply(changes) == {("contacts", "r1"): 1}
    ada, bob = api.contacts
    assert ada["properties"] == {
        "email": "",
        "firstname": "",
        "city": "",
        "phone": None,
        "hs_object_id": "101",  # read-only: never sent
    }
    assert bob["properties"] == {"email": OTHER, "firstname": "Bob"}  # nobody else touched
    [patch] = api.calls("PATCH", "/crm/v3/objects/contacts/")
    assert patch.path == "/crm/v3/objects/contacts/101"
    assert patch.body == {"properties": {"email": "", "firstname": "", "city": ""}}

    # Done once: applying the plan again sends nothing, and a read-back counts it as done.
    assert connector.apply(changes) == {("contacts", "r1"): 0}
    assert len(api.calls("PATCH", "/crm/v3/objects/contacts/")) == 1
    assert in_effect(connector, changes, {"contacts"}) == {("contacts", "r1"): 1}


def test_a_patch_hubspot_refuses_is_an_error_naming_the_call(
    api: HubSpotAPI, connector: HTTPConnector
) -> None:
    bad = RowChange.by_key("contacts", "id", "101", {"properties.hs_object_id": "x"})
    with pytest.raises(ConnectorError, match=r"PATCH /crm/v3/objects/contacts/<contact_id>.*400"):
        connector.apply([bad])
    rows = connector.fetch(FetchRequest("contacts", ("id", "properties"), (("email", (PERSON,)),)))
    assert rows[0]["properties"]["hs_object_id"] == "101"
