"""Running the CLI in tests, on a demo company of its own."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rightful.cli.main import app
from rightful.connectors.sql import dispose_all
from rightful.core.runtime import build_runtime
from rightful.demo.estate import demo_urls
from rightful.demo.vendors import connect_vendors
from rightful.demo.vendors.serve import serving_vendors

runner = CliRunner()


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Settings pointing at a fresh demo company in `tmp_path`, its vendors served."""
    monkeypatch.setenv("RIGHTFUL_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("RIGHTFUL_SECRET_KEY", secrets.token_urlsafe(40))
    monkeypatch.delenv("RIGHTFUL_DATABASE_URL", raising=False)
    monkeypatch.delenv("RIGHTFUL_SMTP_URL", raising=False)
    result = runner.invoke(app, ["demo", "setup", "--people", "30"])
    assert result.exit_code == 0, result.output
    # The help desk and newsletters answer on a loopback port of their own (a request reads
    # them when verified and when run), not at RIGHTFUL_BASE_URL where nothing may listen.
    with serving_vendors(tmp_path) as url:
        runtime = build_runtime()
        connect_vendors(runtime, demo_urls(tmp_path), base_url=url)
        runtime.engine.dispose()
        yield tmp_path
    dispose_all()


def run(*args: str) -> str:
    """Run a command that must succeed; its output."""
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output
