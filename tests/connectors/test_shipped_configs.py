"""Each shipped config reads and erases on a local server implementing the vendor's documented
endpoints, through a 429 storm and a 500 in the middle of pagination."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import yaml

from rightful.connectors.base import RowChange
from rightful.connectors.http import complete_dataset, config_of, connect, shipped, shipped_dataset
from rightful.connectors.http.templates import dig
from rightful.inventory.specs import dataset_from_document
from rightful.rights.planning import build_plan, traverse
from tests.connectors.apiserver import Answer, serving
from tests.connectors.vendor_apis import (
    PERSON,
    HubSpotAPI,
    MailchimpAPI,
    ShopifyAPI,
    StripeAPI,
    ZendeskAPI,
    subscriber_hash,
)

VENDORS: dict[str, Any] = {
    "hubspot": HubSpotAPI,
    "mailchimp": MailchimpAPI,
    "shopify": ShopifyAPI,
    "stripe": StripeAPI,
    "zendesk": ZendeskAPI,
}
# Per vendor: the person's own collection, its child collection, and their expected keys.
SHAPE = {
    "stripe": ("customer", "charge", ["cus_A"], [f"ch_A{n}" for n in range(5)]),
    "zendesk": ("user", "ticket", [11], [1100 + n for n in range(5)]),
    "shopify": ("customer", "order", [501], [9000 + 5010 + n for n in range(5)]),
    "hubspot": ("contacts", "owners", ["101"], [f"a{n}" for n in range(5)]),
    "mailchimp": ("member", "note", [subscriber_hash(PERSON)], [100 + n for n in range(5)]),
}


@pytest.fixture(params=sorted(VENDORS))
def vendor(request: pytest.FixtureRequest) -> Iterator[tuple[str, Any]]:
    with serving(VENDORS[request.param]()) as api:
        yield request.param, api


def read_all(name: str, api: Any) -> dict[str, list[dict[str, Any]]]:
    doc = yaml.safe_load(shipped_dataset(name))["dataset"][0]
    dataset = dataset_from_document(complete_dataset(config_of({"shipped": name}), doc))
    steps = build_plan([dataset], system_of={name: name}, identity_types=["email"])
    settings = {
        "shipped": name,
        "params": api.params(),
        "base_url": api.url,
        "backoff_seconds": 0,
        "max_wait_seconds": 0,
        "rate_limits": False,
    }
    connector = connect(settings)
    try:
        return traverse(steps, {"email": PERSON}, lambda _: connector)
    finally:
        connector.close()


def keys(rows: list[dict[str, Any]]) -> list[Any]:
    return sorted(r["id"] for r in rows)


def test_every_shipped_config_has_a_test_server() -> None:
    assert sorted(VENDORS) == shipped()


def test_a_shipped_config_reads_the_persons_rows_and_only_theirs(vendor: tuple[str, Any]) -> None:
    name, api = vendor
    own, child, own_keys, child_keys = SHAPE[name]
    found = read_all(name, api)
    assert keys(found[f"{name}:{own}"]) == own_keys
    assert keys(found[f"{name}:{child}"]) == child_keys  # over three pages of two


def test_a_429_storm_is_waited_out(vendor: tuple[str, Any]) -> None:
    name, api = vendor
    _, child, _, child_keys = SHAPE[name]
    api.fail("GET", api.paged, api.busy, api.busy, api.busy)
    found = read_all(name, api)
    assert keys(found[f"{name}:{child}"]) == child_keys
    assert len(api.calls("GET", api.paged)) == 3 + 3  # three refusals, then three pages


def test_a_500_mid_pagination_is_retried_without_duplicates(vendor: tuple[str, Any]) -> None:
    name, api = vendor
    _, child, _, child_keys = SHAPE[name]
    original = api.answer
    seen: list[Any] = []

    def answer(asked: Any) -> Answer:
        if asked.method == "GET" and asked.path.startswith(api.paged):
            seen.append(asked)
            if len(seen) in (2, 3):  # the second page fails twice
                with api.lock:
                    api.log.append(asked)
                return Answer(500, {"error": "internal"})
        return original(asked)

    api.answer = answer
    found = read_all(name, api)
    assert keys(found[f"{name}:{child}"]) == child_keys  # none twice, none missing
    assert len(seen) == 1 + 2 + 2


def test_a_shipped_config_erases(vendor: tuple[str, Any]) -> None:
    name, api = vendor
    own, _, own_keys, _ = SHAPE[name]
    settings = {
        "shipped": name,
        "params": api.params(),
        "base_url": api.url,
        "rate_limits": False,
    }
    connector = connect(settings)
    field = {
        "shopify": "first_name",
        "hubspot": "properties.firstname",
        "mailchimp": "merge_fields.FNAME",
    }.get(name, "name")
    masked = RowChange.by_key(own, "id", own_keys[0], {field: "MASKED"})
    assert connector.apply([masked]) == {(own, ""): 1}
    found = read_all(name, api)
    assert dig(found[f"{name}:{own}"][0], field) == "MASKED"
    gone = RowChange.by_key(own, "id", own_keys[0])
    assert connector.apply([gone]) == {(own, ""): 1}
    assert connector.apply([gone]) == {(own, ""): 0}  # already gone
    assert read_all(name, api)[f"{name}:{own}"] == []
    connector.close()
