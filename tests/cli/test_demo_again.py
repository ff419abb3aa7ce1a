"""Running the demo again: it says what an earlier run left, and `--fresh` starts the tour over."""

from __future__ import annotations

import re
import secrets
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from rightful.cli.main import app
from rightful.connectors.sql import dispose_all
from tests.support.cli import run, runner

JORDAN = "jordan.lee@example.com"
FRESH_HINT = "make demo-reset (or rightful demo setup --fresh)"


@pytest.fixture
def demo_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The demo's settings, as `make demo` gives them, with a data directory of its own."""
    monkeypatch.setenv("RIGHTFUL_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("RIGHTFUL_DEMO_MODE", "true")
    monkeypatch.delenv("RIGHTFUL_SECRET_KEY", raising=False)
    monkeypatch.delenv("RIGHTFUL_DATABASE_URL", raising=False)
    yield tmp_path
    dispose_all()


def setup(*extra: str) -> str:
    return run("demo", "setup", "--people", "30", *extra)


def login(output: str) -> tuple[str, str]:
    """The admin password and API token a setup printed."""
    password = re.search(r"password\s+(\S+)", output)
    token = re.search(r"token: (\S+)\)", output)
    assert password and token, output
    return password.group(1), token.group(1)


def submit_deletion() -> str:
    """A deletion request for Jordan, as staff record one from a letter; its reference."""
    return run("rights", "submit", "--type", "delete", "--email", JORDAN).split()[0]


def jordan_in_the_store(data_dir: Path) -> bool:
    with sqlite3.connect(data_dir / "estate" / "storefront.db") as db:
        return bool(db.execute("SELECT 1 FROM customers WHERE email = ?", (JORDAN,)).fetchone())


def test_the_first_setup_says_nothing_about_earlier_runs(demo_dir: Path) -> None:
    assert FRESH_HINT not in setup()


def test_a_second_setup_says_what_earlier_runs_left_and_how_to_start_fresh(
    demo_dir: Path,
) -> None:
    setup()
    submit_deletion()
    again = setup()
    assert "keeps what earlier runs did: 1 request" in again
    assert FRESH_HINT in again


def test_a_fresh_setup_removes_earlier_requests_erasures_and_packages_with_a_new_login(
    demo_dir: Path,
) -> None:
    first = login(setup())
    reference = submit_deletion()
    run("audit", "verify")  # anchors the old store's log in the data directory
    with sqlite3.connect(demo_dir / "estate" / "storefront.db") as db:  # as an erasure would
        db.execute("DELETE FROM customers WHERE email = ?", (JORDAN,))
    (demo_dir / "packages").mkdir(exist_ok=True)
    (demo_dir / "packages" / "left-by-an-earlier-run.bin").write_bytes(b"x")

    fresh = setup("--fresh")

    assert FRESH_HINT not in fresh
    assert reference not in run("rights", "list")
    assert jordan_in_the_store(demo_dir)
    assert not (demo_dir / "packages" / "left-by-an-earlier-run.bin").exists()
    second = login(fresh)
    assert second[0] != first[0] and second[1] != first[1]
    assert "keeps what earlier runs did: 0 requests" in setup()  # counted from the fresh start
    assert "The audit log is intact" in run("audit", "verify")  # the old anchors went too


def test_a_fresh_start_refuses_outside_demo_mode_and_keeps_the_store(
    demo_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    setup()
    reference = submit_deletion()
    monkeypatch.setenv("RIGHTFUL_DEMO_MODE", "false")
    monkeypatch.setenv("RIGHTFUL_SECRET_KEY", secrets.token_urlsafe(40))  # strong, not demo
    result = runner.invoke(app, ["demo", "setup", "--fresh", "--people", "30"])
    assert result.exit_code != 0 and "RIGHTFUL_DEMO_MODE=true" in result.output
    assert reference in run("rights", "list")
