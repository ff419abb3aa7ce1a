"""Secrets are withheld by category and by name, each said as the kind of thing we hold."""

from __future__ import annotations

import pytest

from rightful.inventory.specs import FieldSpec
from rightful.rights.withholding import withheld_kind


@pytest.mark.parametrize(
    ("field", "financial", "held"),
    [
        (
            FieldSpec("acct", ("user.financial.bank_account",)),
            False,
            "We hold bank account details",
        ),
        (FieldSpec("iban", ("user.financial",)), True, "We hold bank account details"),
        (FieldSpec("ccn", ("user.financial",)), True, "We hold card data"),
        (FieldSpec("code", ("user.financial",)), True, "We hold card data"),
        (FieldSpec("card_token", ("user.financial",)), True, "We hold card data"),
        (FieldSpec("passwordHash", ("user",)), False, "We hold your sign-in details"),
        (FieldSpec("api-key", ("system.operations",)), False, "We hold security keys and tokens"),
        (FieldSpec("ssn", ("user",)), False, "We hold government ID numbers"),
    ],
)
def test_a_secret_is_named_as_the_kind_of_thing_we_hold(
    field: FieldSpec, financial: bool, held: str
) -> None:
    kind = withheld_kind(field, financial=financial)
    assert kind is not None and kind.held == held


@pytest.mark.parametrize("name", ["shipping", "postcode", "zip_code", "discount_code", "pinned"])
def test_ordinary_fields_are_not_withheld(name: str) -> None:
    assert withheld_kind(FieldSpec(name, ("user.contact",))) is None
