"""A config in the peer's format loads unchanged and runs: OAuth2, references, every pagination,
postprocessors; what is not supported is refused by name."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from rightful.connectors.base import FetchRequest, RowChange
from rightful.connectors.http import complete_dataset, connect, load_config
from rightful.core.errors import ConnectorError, InvalidInputError
from rightful.inventory.specs import dataset_from_document
from rightful.rights.planning import build_plan, traverse
from tests.connectors.apiserver import serving
from tests.connectors.crm_api import CONFIG, CRMAPI, DATASET, refresh_config


@pytest.fixture
def crm() -> Iterator[CRMAPI]:
    with serving(CRMAPI()) as server:
        yield server


def plan_and_read(crm: CRMAPI, email: str) -> dict[str, list[dict[str, Any]]]:
    config = load_config(CONFIG)
    dataset = dataset_from_document(complete_dataset(config, DATASET))
    steps = build_plan([dataset], system_of={"crm": "crm"}, identity_types=["email"])
    connector = connect(crm.settings())
    try:
        return traverse(steps, {"email": email}, lambda _: connector)
    finally:
        connector.close()


def test_the_planner_reaches_every_collection_through_the_config(crm: CRMAPI) -> None:
    found = plan_and_read(crm, "p1@example.com")
    contacts = found["crm:contacts"]
    # Contacts 1, 4 and 7 hold p1@: found over two pages of a POST search (link in the body).
    assert sorted(c["id"] for c in contacts) == ["1", "4", "7"]
    # Notes are found by the contacts' ids (a reference), five each over three offset pages,
    # unwrapped from their envelope.
    assert len(found["crm:notes"]) == 15
    assert {n["contact_id"] for n in found["crm:notes"]} == {"1", "4", "7"}


def test_a_filter_keeps_only_the_persons_rows(crm: CRMAPI) -> None:
    found = plan_and_read(crm, "owner3@example.com")
    # All owners are listed over three pages (link in the headers); the filter, case-blind,
    # keeps the one whose e-mail is the person's.
    assert [o["id"] for o in found["crm:owners"]] == ["w3"]
    assert len(crm.calls("GET", "/owners")) == 3


def test_an_expired_token_is_renewed_once_and_the_call_made_again(crm: CRMAPI) -> None:
    connector = connect(crm.settings())
    read = FetchRequest("contacts", ("id",), (("email", ("p2@example.com",)),))
    assert len(connector.fetch(read)) == 2
    crm.expire_tokens()
    assert len(connector.fetch(read)) == 2
    assert len(crm.token_requests) == 2
    assert crm.token_requests[0]["grant_type"] == "client_credentials"
    connector.close()


def test_a_refresh_token_is_used_and_its_rotation_kept(crm: CRMAPI) -> None:
    settings = crm.settings(config=refresh_config())
    settings["params"] = {**settings["params"], "refresh_token": "r0"}
    connector = connect(settings)
    read = FetchRequest("contacts", ("id",), (("email", ("p2@example.com",)),))
    assert len(connector.fetch(read)) == 2
    crm.expire_tokens()
    assert len(connector.fetch(read)) == 2
    # First the given refresh token, then the one the provider rotated it to.
    used = [r.get("refresh_token") for r in crm.token_requests]
    assert used == ["r0", "r1"]
    assert {r["grant_type"] for r in crm.token_requests} == {"refresh_token"}
    connector.close()


def test_an_update_body_is_built_from_its_template(crm: CRMAPI) -> None:
    connector = connect(crm.settings())
    change = RowChange.by_key("contacts", "id", "2", {"firstname": "MASKED"})
    assert connector.apply([change]) == {("contacts", ""): 1}
    assert crm.contacts[1]["properties"]["firstname"] == "MASKED"
    patch = crm.calls("PATCH", "/contacts/2")[0]
    assert patch.body == {"properties": {"firstname": "MASKED"}}
    connector.close()


def test_bad_client_credentials_are_a_readable_error(crm: CRMAPI) -> None:
    settings = crm.settings(params={"client_id": "crm-client", "client_secret": "wrong-secret"})
    connector = connect(settings)
    with pytest.raises(ConnectorError, match="OAuth2 token request answered 401") as failed:
        connector.test_connection()
    assert "wrong-secret" not in str(failed.value)


def test_completing_the_dataset_declares_each_input(crm: CRMAPI) -> None:
    done = complete_dataset(load_config(CONFIG), DATASET)
    notes = next(c for c in done["collections"] if c["name"] == "notes")
    contact_id = next(f for f in notes["fields"] if f["name"] == "contact_id")
    assert contact_id["fides_meta"]["references"] == [
        {"dataset": "crm", "field": "contacts.id", "direction": "from"}
    ]
    owners = next(c for c in done["collections"] if c["name"] == "owners")
    email = next(f for f in owners["fields"] if f["name"] == "email")
    assert email["fides_meta"]["identity"] == "email"
    assert DATASET["collections"][2]["fields"][-1]["name"] == "text"  # the input is untouched


@pytest.mark.parametrize(
    ("edit", "named"),
    [
        (
            (
                "          data_path: notes\n",
                "          data_path: notes\n          grouped_inputs: [contact_id]\n",
            ),
            "grouped_inputs",
        ),
        (
            (
                "  test_request:",
                "  data_protection_request:\n    method: POST\n    path: /gdpr\n  test_request:",
            ),
            "data_protection_request",
        ),
        (("strategy: unwrap", "strategy: extract_for_execution_log"), "extract_for_execution_log"),
        (("strategy: oauth2_client_credentials", "strategy: custom_signature"), "custom_signature"),
        (("strategy: offset", "strategy: some_cursor"), "some_cursor"),
        (
            (
                "          data_path: results\n          postprocessors",
                "          request_override: mine\n"
                "          data_path: results\n          postprocessors",
            ),
            "request_override",
        ),
    ],
)
def test_an_unsupported_key_is_refused_by_name(edit: tuple[str, str], named: str) -> None:
    changed = CONFIG.replace(*edit, 1)
    assert changed != CONFIG
    with pytest.raises(InvalidInputError, match=f"'{named}'"):
        load_config(changed)


def test_an_external_reference_is_refused() -> None:
    changed = CONFIG.replace(
        "                - dataset: <instance_fides_key>\n"
        "                  field: contacts.id\n"
        "                  direction: from\n"
        "          data_path: notes",
        "                - customer_id_from_elsewhere\n          data_path: notes",
    )
    assert changed != CONFIG
    with pytest.raises(InvalidInputError, match="external references"):
        load_config(changed)
