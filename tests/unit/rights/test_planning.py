"""Plans follow references from the identities the request carries."""

from pathlib import Path

import yaml

from rightful.connectors.testing import FakeConnector
from rightful.inventory.specs import dataset_from_document
from rightful.rights.planning import build_plan, fetch_request, traverse

DATASETS = Path(__file__).parents[3] / "src/rightful/demo/datasets"


def demo_specs() -> list:
    return [
        dataset_from_document(d)
        for f in sorted(DATASETS.glob("*.yml"))
        for d in yaml.safe_load(f.read_text())["dataset"]
    ]


SYSTEMS = {"storefront": "storefront", "support_desk": "support_desk", "engagement": "engagement"}


def test_every_demo_collection_is_reached_from_an_email() -> None:
    steps = build_plan(demo_specs(), system_of=SYSTEMS, identity_types=["email"])
    names = [s.address for s in steps]
    assert len(names) == 11
    assert names.index("storefront:customers") < names.index("storefront:orders")
    assert names.index("storefront:orders") < names.index("storefront:order_items")
    assert names.index("engagement:devices") < names.index("engagement:web_sessions")


def test_collections_are_queried_by_upstream_values() -> None:
    steps = {
        s.address: s for s in build_plan(demo_specs(), system_of=SYSTEMS, identity_types=["email"])
    }
    req = fetch_request(
        steps["storefront:orders"],
        {"email": "a@example.com"},
        {"storefront:customers": [{"id": 7}, {"id": "8"}]},
    )
    assert req.collection == "orders"
    assert dict(req.match) == {"customer_id": (7, 8)}  # cast by fides_meta.data_type


def test_max_level_stops_the_plan_early() -> None:
    steps = build_plan(demo_specs(), system_of=SYSTEMS, identity_types=["email"], max_level=0)
    assert {s.address for s in steps} == {
        "storefront:customers",
        "support_desk:support_tickets",
        "engagement:marketing_subscriptions",
    }


def test_traverse_walks_across_systems_with_fake_connectors() -> None:
    stores = {
        "storefront": FakeConnector(
            {
                "customers": [
                    {"id": 1, "email": "a@example.com"},
                    {"id": 2, "email": "b@example.com"},
                ],
                "orders": [{"id": 10, "customer_id": 1}, {"id": 11, "customer_id": 2}],
                "order_items": [{"id": 100, "order_id": 10}],
            }
        ),
        "support_desk": FakeConnector(
            {
                "support_tickets": [{"id": 5, "customer_id": 1}],
                "chat_messages": [{"id": 50, "ticket_id": 5}],
            }
        ),
        "engagement": FakeConnector({}),
    }
    steps = build_plan(demo_specs(), system_of=SYSTEMS, identity_types=["email"])
    found = traverse(steps, {"email": "a@example.com"}, lambda key: stores[key])
    assert [r["id"] for r in found["storefront:orders"]] == [10]
    assert [r["id"] for r in found["storefront:order_items"]] == [100]
    assert [r["id"] for r in found["support_desk:chat_messages"]] == [50]


def test_a_data_maps_plan_is_made_once_and_afresh_for_a_new_map() -> None:
    held = tuple(demo_specs())  # a data map's datasets, as inventory.revision holds them
    first = build_plan(held, system_of=SYSTEMS, identity_types=["email"])
    again = build_plan(held, system_of=SYSTEMS, identity_types=["email"])
    assert again == first
    assert all(a is b for a, b in zip(again, first, strict=True))  # not planned again
    assert again is not first  # each caller its own list
    fewer = tuple(d for d in held if d.key != "engagement")  # a later revision of the map
    replanned = build_plan(fewer, system_of=SYSTEMS, identity_types=["email"])
    assert {s.system for s in replanned} == {"storefront", "support_desk"}
    by_phone = build_plan(held, system_of=SYSTEMS, identity_types=["phone_number"])
    assert by_phone != first
    assert build_plan(list(held), system_of=SYSTEMS, identity_types=["email"]) == first
