"""`rightful inventory lint`: the stored data map or files, checked against card and password
rules, exit 1 on any finding."""

from __future__ import annotations

from pathlib import Path

from rightful.cli.main import app
from tests.support.cli import run, runner
from tests.support.peer_estate import DATASET


def test_the_demo_data_map_passes_the_lint(cli_env: Path) -> None:
    assert "keep the card and password rules" in run("inventory", "lint")


def test_a_file_that_keeps_card_codes_fails_the_lint_naming_field_and_rule(cli_env: Path) -> None:
    shop = cli_env / "shop.yml"
    shop.write_text(DATASET)
    result = runner.invoke(app, ["inventory", "lint", str(shop)])
    assert result.exit_code == 1
    assert "shop.payment_card.code: a card verification code" in result.output
    assert "(PCI DSS 3.3.1.2)" in result.output
    assert "shop.payment_card.card_number:" in result.output and "(PCI DSS 3.4.1)" in result.output
    applied = runner.invoke(app, ["inventory", "apply", "--strict", str(shop)])
    assert applied.exit_code != 0 and "PCI DSS 3.3.1.2" in applied.output
    warned = run("inventory", "apply", str(shop))
    assert "Warning: shop.payment_card.code" in warned
