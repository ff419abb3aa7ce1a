"""The erasure policy decides per collection: delete, mask, or keep with a legal basis."""

from datetime import date
from pathlib import Path

import pytest

from rightful.core.errors import InvalidInputError
from rightful.inventory.specs import CollectionSpec, FieldSpec
from rightful.rights.policy import decide, parse_policy
from tests.unit.rights.test_planning import demo_specs

POLICY = parse_policy(
    (Path(__file__).parents[3] / "src/rightful/demo/policies/delete.yml").read_text()
)
TODAY = date(2026, 12, 1)
COLLS = {c.address: c for d in demo_specs() for c in d.collections}


def test_the_customer_record_is_deleted() -> None:
    assert decide(COLLS["storefront:customers"], POLICY, TODAY).action == "delete_rows"


def test_orders_are_kept_for_tax_but_cut_off_from_the_person() -> None:
    decision = decide(COLLS["storefront:orders"], POLICY, TODAY)
    assert decision.action == "retain_rows"
    assert [(m.name, m.strategy) for m in decision.masks] == [
        ("customer_id", "null_rewrite"),
        ("shipping_address_id", "null_rewrite"),
    ]
    assert decision.legal_basis and "seven years" in decision.legal_basis
    assert decision.retain_until == date(2033, 12, 1)


def test_order_items_are_kept_whole() -> None:
    decision = decide(COLLS["storefront:order_items"], POLICY, TODAY)
    assert decision.action == "retain_rows" and decision.masks == ()


def test_a_collection_level_delete_override_wins() -> None:
    coll = CollectionSpec(
        "d", "c", (FieldSpec("x", ("user.behavior.purchase_history",)),), erase_strategy="delete"
    )
    assert decide(coll, POLICY, TODAY).action == "delete_rows"


def test_a_field_level_override_masks_as_the_dataset_says() -> None:
    coll = CollectionSpec(
        "d",
        "c",
        (
            FieldSpec("id", ("user.unique_id",), primary_key=True),
            FieldSpec("nick", ("user.name",), masking_override={"strategy": "hmac"}),
        ),
    )
    decision = decide(coll, POLICY, TODAY)
    assert decision.action == "mask_fields"
    assert [(m.name, m.strategy) for m in decision.masks] == [("nick", "hmac")]


def test_a_retain_rule_needs_its_legal_basis() -> None:
    text = "policy:\n  name: p\n  rules:\n    - categories: [user]\n      action: retain\n"
    with pytest.raises(InvalidInputError, match="retain needs a legal_basis"):
        parse_policy(text)


def test_a_mask_rule_needs_a_known_strategy() -> None:
    text = (
        "policy:\n  name: p\n  rules:\n    - categories: [user]\n      action: mask\n"
        "      strategy: shred\n"
    )
    with pytest.raises(InvalidInputError, match="mask needs a strategy"):
        parse_policy(text)


EMPLOYEE = CollectionSpec(
    "shop",
    "employee",
    (
        FieldSpec("id", ("system.operations",), primary_key=True),
        FieldSpec("email", ("user.contact.email",)),
        FieldSpec(
            "name",
            ("user.name",),
            masking_override={"strategy": "string_rewrite", "configuration": {}},
        ),
    ),
)
CONTACT_ONLY = parse_policy(
    """
policy:
  name: Contact details only
  rules:
    - {categories: [user], action: leave}
    - {categories: [user.contact], action: mask, strategy: null_rewrite}
"""
)


def test_an_override_never_reaches_a_field_the_policy_leaves() -> None:
    decision = decide(EMPLOYEE, CONTACT_ONLY, TODAY)
    assert decision.action == "mask_fields"
    assert [(m.name, m.strategy) for m in decision.masks] == [("email", "null_rewrite")]


def test_one_leave_rule_keeps_what_no_other_rule_names() -> None:
    cards = CollectionSpec(
        "shop",
        "payment_card",
        (
            FieldSpec("customer_id", ("user.unique_id",)),
            FieldSpec("holder", ("user.financial",)),
        ),
    )
    # Nothing targeted: the rows are not touched at all, let alone deleted.
    assert decide(cards, CONTACT_ONLY, TODAY).action == "nothing"


def test_a_field_to_delete_beside_one_left_alone_is_emptied_not_the_row_deleted() -> None:
    policy = parse_policy(
        "policy: {name: p, rules: [{categories: [user], action: leave},"
        " {categories: [user.contact], action: delete}]}"
    )
    decision = decide(EMPLOYEE, policy, TODAY)
    assert decision.action == "mask_fields"
    assert [(m.name, m.strategy) for m in decision.masks] == [("email", "null_rewrite")]


def test_without_a_leave_rule_personal_data_no_rule_names_is_deleted() -> None:
    policy = parse_policy(
        "policy: {name: p, rules: [{categories: [user.contact], action: mask,"
        " strategy: null_rewrite}]}"
    )
    assert decide(EMPLOYEE, policy, TODAY).action == "delete_rows"
