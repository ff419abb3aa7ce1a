"""Rows read for many people at once are split per person by value lookups (`planning.Split`),
giving each exactly the rows the walk gives them alone, in the order the store returned."""

from typing import Any

from rightful.connectors.base import nonempty_matches
from rightful.rights.planning import Split, Step, build_plan, fetch_request
from tests.unit.rights.test_planning import SYSTEMS, demo_specs

FOUND: dict[str, list[dict[str, Any]]] = {
    "storefront:customers": [
        {"id": 1, "email": "avery@example.com"},
        {"id": 2, "email": "jordan@example.com"},
        {"id": 3, "email": "sam@example.com"},
    ],
    "storefront:orders": [
        {"id": 12, "customer_id": 2},
        {"id": 10, "customer_id": 1},
        {"id": 11, "customer_id": 1},
        {"id": 13, "customer_id": 9},  # nobody's
    ],
    "storefront:order_items": [
        {"id": 103, "order_id": 12},
        {"id": 101, "order_id": 10},
        {"id": 102, "order_id": 11},
        {"id": 104, "order_id": 10},
    ],
}


def _scanned(steps: list[Step], email: str) -> dict[str, list[dict[str, Any]]]:
    """The share found by comparing every row with every asked value (the walk, alone)."""
    mine: dict[str, list[dict[str, Any]]] = {}
    for step in steps:
        wanted = [
            (f, set(v)) for f, v in nonempty_matches(fetch_request(step, {"email": email}, mine))
        ]
        mine[step.address] = [
            r for r in FOUND.get(step.address, []) if any(r.get(f) in v for f, v in wanted)
        ]
    return mine


def test_each_persons_share_is_what_scanning_every_row_gives() -> None:
    steps = build_plan(demo_specs(), system_of=SYSTEMS, identity_types=["email"])
    split = Split(steps, FOUND)
    for email in ("avery@example.com", "jordan@example.com", "nobody@example.com"):
        assert split.share({"email": email}) == _scanned(steps, email)


def test_a_share_keeps_the_stores_order_and_only_its_own_rows() -> None:
    steps = build_plan(demo_specs(), system_of=SYSTEMS, identity_types=["email"])
    avery = Split(steps, FOUND).share({"email": "avery@example.com"})
    assert [o["id"] for o in avery["storefront:orders"]] == [10, 11]
    assert [i["id"] for i in avery["storefront:order_items"]] == [101, 102, 104]
