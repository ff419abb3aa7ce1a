"""`rightful rights import FILE.csv` as staff run it on a file from an agent service."""

from __future__ import annotations

import csv
import secrets
from pathlib import Path

import pytest
from sqlalchemy import func, select

from rightful.cli.main import app
from rightful.core.runtime import build_runtime
from rightful.rights.models import RightsRequest
from tests.support.cli import run, runner

HEADER = "external_id,request_type,email,name,jurisdiction,received_at,other_points.loyalty_id\n"
GOOD = (
    "PS-1001,delete,casey.rivera@example.com,Casey Rivera,US-CA,2026-11-30,\n"
    "PS-1002,opt_out_sale,morgan.lee@example.net,,US-TX,2026-12-01,\n"
)
BAD = (
    "PS-1003,delete,not-an-email,Riley Park,US-CA,2026-12-02,\n"
    "PS-1004,erase_everything,jamie.cho@example.com,,US-CA,2026-12-02,\n"
)


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A migrated store of its own; the command run from another folder, as a newcomer would."""
    monkeypatch.setenv("RIGHTFUL_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("RIGHTFUL_SECRET_KEY", secrets.token_urlsafe(40))
    for name in ("RIGHTFUL_DATABASE_URL", "RIGHTFUL_SMTP_URL", "RIGHTFUL_AS"):
        monkeypatch.delenv(name, raising=False)
    run("db", "upgrade")
    elsewhere = tmp_path / "downloads"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    return elsewhere


def _requests() -> int:
    runtime = build_runtime()
    with runtime.sessions() as session:
        found = int(session.scalar(select(func.count()).select_from(RightsRequest)) or 0)
    runtime.engine.dispose()
    return found


def _file(folder: Path, body: str, name: str = "requests.csv") -> Path:
    path = folder / name
    path.write_bytes(b"\xef\xbb\xbf" + (HEADER + body).encode())  # "CSV UTF-8" from a spreadsheet
    return path


def test_a_file_with_bad_lines_imports_nothing_and_names_each_line(store: Path) -> None:
    path = _file(store, GOOD + BAD)
    result = runner.invoke(app, ["rights", "import", path.name, "--source", "Permission Slip"])
    assert result.exit_code == 1
    assert "Nothing was imported: 2 of 4 lines need attention" in result.output
    assert "PS-1003" in result.output and "request_type" in result.output
    assert _requests() == 0


def test_skip_invalid_imports_the_good_lines_and_writes_the_report(store: Path) -> None:
    path = _file(store, GOOD + BAD)
    result = runner.invoke(
        app,
        ["rights", "import", str(path), "--source", "Permission Slip", "--skip-invalid",
         "--report", "report.csv"],
    )  # fmt: skip
    assert result.exit_code == 1  # lines were rejected, even though the others went in
    assert "Imported 2 of 4 lines; 0 were imported before; 2 rejected." in result.output
    assert _requests() == 2
    with (store / "report.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["line"], r["outcome"], r["field"]) for r in rows] == [
        ("2", "imported", ""),
        ("3", "imported", ""),
        ("4", "rejected", "email"),
        ("5", "rejected", "request_type"),
    ]
    assert rows[0]["reference"].startswith("R-")


def test_importing_the_same_file_again_files_nothing_twice(store: Path) -> None:
    path = _file(store, GOOD)
    first = run("rights", "import", str(path), "--source", "Permission Slip")
    again = run("rights", "import", str(path), "--source", "Permission Slip")
    assert "Imported 2 of 2 lines" in first
    assert "2 lines were imported before and were not filed again" in again
    assert "Imported 0 of 2 lines; 2 were imported before; 0 rejected." in again
    assert _requests() == 2


def test_a_dry_run_checks_and_files_nothing(store: Path) -> None:
    out = run("rights", "import", str(_file(store, GOOD)), "--source", "X", "--dry-run")
    assert "Dry run, nothing imported: of 2 lines, 2 are valid" in out
    assert _requests() == 0


def test_an_unknown_column_is_named_before_anything_is_read(store: Path) -> None:
    path = store / "typo.csv"
    path.write_text("external_id,request_type,emial\nA-1,delete,a@example.com\n")
    result = runner.invoke(app, ["rights", "import", str(path), "--source", "X"])
    assert result.exit_code == 2
    assert "columns Rightful does not know: 'emial'" in result.output
    assert _requests() == 0


def test_a_file_that_is_not_utf8_is_refused_plainly(store: Path) -> None:
    path = store / "latin1.csv"
    path.write_bytes(
        (HEADER + "A-1,delete,jos\xe9@example.com,Jos\xe9,US-CA,,\n").encode("latin-1")
    )
    result = runner.invoke(app, ["rights", "import", str(path), "--source", "X"])
    assert result.exit_code == 2
    assert 'Line 2 of the file is not UTF-8 text. Save it as "CSV UTF-8"' in result.output


def test_a_report_with_no_folder_to_go_in_is_refused_before_anything_is_imported(
    store: Path,
) -> None:
    path = _file(store, GOOD)
    result = runner.invoke(
        app, ["rights", "import", str(path), "--source", "X", "--report", "nowhere/out.csv"]
    )
    assert result.exit_code == 2
    assert "There is no folder nowhere to write it in." in result.output
    assert _requests() == 0
