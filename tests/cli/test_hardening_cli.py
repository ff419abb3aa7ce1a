"""Small hardening at the command line: where the demo listens, and where webhooks may point."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from rightful.cli.main import app
from tests.support.cli import run, runner

PARTNER = """partner:
  - fides_key: ad_network
    name: Ad Network
    role: third_party
    erasure_webhook: {url}
"""
DESTINATION = """  - key: crm_hook
    name: The CRM
    kind: webhook
    url: {url}
"""  # appended to the demo's catalogue, whose last section is its destinations
DEMO_CATALOGUE = Path(__file__).parents[2] / "src/rightful/demo/consent.yml"
KINDS = [
    pytest.param("inventory", PARTNER, id="partner"),
    pytest.param("consent", DESTINATION, id="consent-destination"),
]
EVERYWHERE = "0.0.0.0"  # noqa: S104 - listening on every interface is what is tested


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty, migrated store in `tmp_path`, outside demo mode."""
    monkeypatch.setenv("RIGHTFUL_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("RIGHTFUL_SECRET_KEY", secrets.token_urlsafe(40))
    for name in ("RIGHTFUL_DATABASE_URL", "RIGHTFUL_DEMO_MODE", "RIGHTFUL_ALLOW_HTTP_WEBHOOKS"):
        monkeypatch.delenv(name, raising=False)
    run("db", "upgrade")
    return tmp_path


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """What `rightful serve` would have asked uvicorn to do (nothing is served)."""
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(uvicorn, "run", lambda _app, **options: calls.append(options))
    return calls


def test_demo_mode_refuses_to_listen_beyond_this_machine(
    store: Path, served: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RIGHTFUL_DEMO_MODE", "true")
    result = runner.invoke(app, ["serve", "--host", EVERYWHERE])
    assert result.exit_code == 1
    assert "--allow-public-demo" in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert served == []


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1"])
def test_demo_mode_listens_on_this_machine(
    store: Path, served: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch, host: str
) -> None:
    monkeypatch.setenv("RIGHTFUL_DEMO_MODE", "true")
    run("serve", "--host", host)
    assert [c["host"] for c in served] == [host]


def test_demo_mode_listens_beyond_this_machine_when_told_to(
    store: Path, served: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RIGHTFUL_DEMO_MODE", "true")
    run("serve", "--host", EVERYWHERE, "--allow-public-demo")
    assert [c["host"] for c in served] == [EVERYWHERE]


def test_outside_demo_mode_any_address_is_served(store: Path, served: list[dict[str, Any]]) -> None:
    run("serve", "--host", EVERYWHERE)
    assert [c["host"] for c in served] == [EVERYWHERE]


def apply(folder: Path, kind: str, template: str, url: str) -> Any:
    """`rightful inventory|consent apply` of a partner or destination with this webhook."""
    file = folder / f"{kind}.yml"
    before = DEMO_CATALOGUE.read_text() if kind == "consent" else ""
    file.write_text(before + template.format(url=url))
    return runner.invoke(app, [kind, "apply", str(file)])


@pytest.mark.parametrize(("kind", "template"), KINDS)
def test_a_plain_http_webhook_is_refused_naming_whose_it_is(
    cli_env: Path, kind: str, template: str
) -> None:
    result = apply(cli_env, kind, template, "http://partner.example/erase")
    assert result.exit_code == 2
    assert "ad_network" in result.output or "crm_hook" in result.output
    assert "https://" in result.output and "RIGHTFUL_ALLOW_HTTP_WEBHOOKS" in result.output


@pytest.mark.parametrize(("kind", "template"), KINDS)
def test_an_https_webhook_is_taken(cli_env: Path, kind: str, template: str) -> None:
    result = apply(cli_env, kind, template, "https://partner.example/erase")
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("setting", ["RIGHTFUL_DEMO_MODE", "RIGHTFUL_ALLOW_HTTP_WEBHOOKS"])
@pytest.mark.parametrize(("kind", "template"), KINDS)
def test_a_plain_http_webhook_is_taken_in_demo_mode_or_when_allowed(
    cli_env: Path, monkeypatch: pytest.MonkeyPatch, setting: str, kind: str, template: str
) -> None:
    monkeypatch.setenv(setting, "true")
    result = apply(cli_env, kind, template, "http://127.0.0.1:9000/erase")
    assert result.exit_code == 0, result.output
