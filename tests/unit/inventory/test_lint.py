"""The data map keeps the card and password rules: each break is found, naming field and rule."""

from __future__ import annotations

import pytest

from rightful.core.errors import InventoryError
from rightful.demo.setup import data_map_files
from rightful.inventory.lint import lint
from rightful.inventory.service import apply_files, parse_datasets
from rightful.security.permissions import system_actor
from tests.support.app import App


def shop(*fields: str) -> str:
    body = "".join(f"\n          {f}" for f in fields)
    return f"""
dataset:
  - fides_key: shop
    collections:
      - name: wallet
        fields:
          - name: email
            data_categories: [user.contact.email]
            fides_meta: {{identity: email}}{body}
"""


def found(*fields: str) -> list[tuple[str, str]]:
    return [(f.field, f.rule) for f in lint(parse_datasets([("shop.yml", shop(*fields))]))]


@pytest.mark.parametrize(
    "field",
    [
        "- {name: cvv, data_categories: [system.operations]}",
        "- {name: cardSecurityCode, data_categories: [user.financial]}",
        "- {name: code, data_categories: [user.financial]}",  # the card's, in a card collection
    ],
)
def test_a_card_verification_code_kept_after_authorisation_is_found(field: str) -> None:
    name = field.split("name: ")[1].split(",")[0]
    assert found(field) == [(name, "PCI DSS 3.3.1.2")]


def test_a_full_card_number_is_found_by_category_or_name() -> None:
    assert found(
        "- {name: number, data_categories: [user.financial.credit_card]}",
        "- {name: ccn, data_categories: [user.financial]}",
    ) == [("number", "PCI DSS 3.4.1"), ("ccn", "PCI DSS 3.4.1")]


@pytest.mark.parametrize(
    "field",
    [
        "- {name: card_last4, data_categories: [user.financial.credit_card]}",
        "- {name: card_token, data_categories: [user.financial.credit_card]}",
        "- {name: pan, data_categories: [user.financial], rightful: {stored_as: tokenised}}",
        "- {name: code, data_categories: [system.operations]}",  # no card data beside it
    ],
)
def test_truncated_or_tokenised_card_data_is_kept_to_the_rule(field: str) -> None:
    assert found(field) == []


def test_a_readable_password_hint_is_found() -> None:
    assert found("- {name: password_hint, data_categories: [user.authorization]}") == [
        ("password_hint", "NIST SP 800-63B 5.1.1.2")
    ]


def test_a_password_kept_without_a_one_way_function_is_found() -> None:
    assert found(
        "- {name: password, data_categories: [user.authorization.password]}",
        "- {name: pwd_hash, data_categories: [user.authorization.password]}",
        "- {name: secret, data_categories: [user.authorization.password],"
        " rightful: {stored_as: hashed}}",
    ) == [("password", "NIST SP 800-63B 5.1.1.2")]


def test_each_finding_names_the_field_and_the_rule() -> None:
    [finding] = lint(
        parse_datasets([("shop.yml", shop("- {name: cvc2, data_categories: [user]}"))])
    )
    assert str(finding).startswith("shop.wallet.cvc2: a card verification code must not be kept")
    assert str(finding).endswith("(PCI DSS 3.3.1.2)")


def test_the_demo_data_map_keeps_every_rule() -> None:
    assert lint(parse_datasets(data_map_files())) == []


def test_apply_warns_and_strict_apply_refuses(rightful_app: App) -> None:
    text = shop("- {name: cvv, data_categories: [user.financial]}")
    with rightful_app.runtime.sessions() as session:
        with pytest.raises(InventoryError) as caught:
            apply_files(
                session, files=[("shop.yml", text)], actor=system_actor("test"), strict=True
            )
        assert caught.value.errors[0]["field"] == "cvv"
        assert "PCI DSS 3.3.1.2" in caught.value.errors[0]["message"]
        summary = apply_files(session, files=[("shop.yml", text)], actor=system_actor("test"))
    assert summary.warnings == [str(f) for f in lint(parse_datasets([("shop.yml", text)]))]
    r = rightful_app.client.post(
        "/api/v1/inventory?strict=true",
        headers=rightful_app.auth,
        json=[{"name": "shop.yml", "content": text}],
    )
    assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem")
