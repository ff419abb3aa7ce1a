"""The demo publishes Lumen's privacy notice from its data map, as `rightful demo setup` builds
it, and the notice is true to it: `rightful notices check` passes (CI runs this)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from rightful.cli.main import app as cli
from rightful.connectors.sql import dispose_all
from rightful.core.runtime import Runtime, build_runtime
from rightful.demo.setup import setup_demo
from rightful.notices import service
from rightful.security.permissions import system_actor
from rightful.web.app import create_app
from tests.support.app import make_settings


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[Runtime]:
    runtime = build_runtime(make_settings(tmp_path, demo_mode=True))
    try:
        setup_demo(runtime, people=20)
        yield runtime
    finally:
        runtime.engine.dispose()
        dispose_all()


def test_the_demo_publishes_its_notice_and_the_check_passes(demo: Runtime) -> None:
    with demo.sessions() as session:
        report = service.check_version(session, demo.settings, actor=system_actor("ci"))
    assert report.version.number == 1 and report.version.status == "published"
    assert report.mismatches == [] and report.stale is None


def test_notices_check_on_the_demo_exits_0(demo: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RIGHTFUL_DATA_DIR", str(demo.settings.data_dir))
    monkeypatch.setenv("RIGHTFUL_SECRET_KEY", demo.settings.secret_key)
    monkeypatch.setenv("RIGHTFUL_DEMO_MODE", "true")
    for key in ("RIGHTFUL_DATABASE_URL", "RIGHTFUL_AS"):
        monkeypatch.delenv(key, raising=False)
    result = CliRunner().invoke(cli, ["notices", "check"])
    assert result.exit_code == 0, result.output
    assert "Version 1 (published): true to the data map." in result.output


def test_the_demo_notice_names_what_lumen_holds_and_who_gets_it(demo: Runtime) -> None:
    with TestClient(create_app(demo, start_worker=False)) as site:
        page = site.get("/privacy").text
        data = site.get("/privacy.json").json()
    for words in (
        "BrightAds Network",
        "Payment details",
        "Global Privacy Control",
        "7 years after you ask us to delete it",
        "privacy@lumen.example",
    ):
        assert words in page
    kinds = [b["kind"] for b in data["blocks"]]
    assert {"categories", "recipients", "sale-share", "retention", "rights"} <= set(kinds)
    shared = next(b for b in data["blocks"] if b["kind"] == "sale-share")["body"]["shared"]
    assert [s["partner"] for s in shared] == ["brightads"]  # from the data map's disclosures
