"""Applying a data map says what deletions can do: unknown masking strategies are refused with
the field named, and collections without a primary key are described, not silently skipped."""

from __future__ import annotations

import pytest

from rightful.core.errors import InventoryError
from rightful.inventory.service import apply_files
from rightful.security.permissions import system_actor
from tests.support.app import App
from tests.support.peer_estate import DATASET


def apply(app: App, text: str) -> list[str]:
    with app.runtime.sessions() as session:
        summary = apply_files(session, files=[("shop.yml", text)], actor=system_actor("test"))
        session.commit()
    return summary.notes


def test_an_unknown_field_masking_strategy_is_refused_with_the_field_named(
    rightful_app: App,
) -> None:
    text = DATASET.replace("strategy: string_rewrite\n", "strategy: hash\n")
    with pytest.raises(InventoryError) as caught:
        apply(rightful_app, text)
    [found] = caught.value.errors
    assert (found["dataset"], found["collection"], found["field"]) == ("shop", "employee", "name")
    assert "unknown masking strategy 'hash'" in found["message"] and "hmac" in found["message"]


def test_an_unknown_collection_strategy_is_refused(rightful_app: App) -> None:
    text = DATASET.replace(
        "      - name: visit\n",
        "      - name: visit\n        fides_meta:\n"
        "          masking_strategy_override: {strategy: shred}\n",
    )
    with pytest.raises(InventoryError) as caught:
        apply(rightful_app, text)
    assert caught.value.errors[0]["collection"] == "visit"
    assert "'delete'" in caught.value.errors[0]["message"]


def test_collections_without_a_primary_key_are_described(rightful_app: App) -> None:
    notes = apply(rightful_app, DATASET)
    assert (
        "shop.visit has no primary key: a deletion changes its rows by email, "
        "the values that found them." in notes
    )
    assert any(
        n.startswith("shop.payment_card has no primary key") and "customer_id" in n for n in notes
    )
    assert not any("shop.customer" in n or "shop.product" in n for n in notes)


def test_a_collection_nothing_can_single_out_is_named(rightful_app: App) -> None:
    # Found only through a nested field: no store WHERE can match it.
    text = DATASET.replace(
        """      - name: visit
        fields:
          - name: email
            data_categories: [user.contact.email]
            fides_meta: {identity: email, data_type: string}""",
        """      - name: visit
        fields:
          - name: who
            data_categories: [system.operations]
            fields:
              - name: email
                data_categories: [user.contact.email]
                fides_meta: {identity: email, data_type: string}""",
    )
    notes = apply(rightful_app, text)
    assert any(n.startswith("shop.visit cannot be erased row by row") for n in notes)
