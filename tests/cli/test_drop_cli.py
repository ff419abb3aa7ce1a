"""`rightful drop`: a downloaded list imported and matched, the clock and the counts shown, the
status file written, and the same archive refused a second time."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from rightful.cli.main import app
from rightful.core import clock
from rightful.core.clock import utcnow
from rightful.drop.hashing import ListType, list_hash
from tests.support.cli import run, runner


def test_a_list_is_imported_counted_and_answered_with_a_status_file(
    cli_env: Path, tmp_path: Path
) -> None:
    assert "DROP is not in use" in run("drop", "status")  # not a registered broker
    stem = f"{utcnow():%Y%m%d}_4821_Email"  # downloaded today: the 45 days start now
    listed = tmp_path / f"{stem}.csv"
    listed.write_text(
        "ID,Hash\n"
        f"A7kP2xQ9Lm4R,{list_hash(ListType.EMAIL, {'email': 'Avery.Quinn@example.com'})}\n"
        "short,abc\n"
        f"B7kP2xQ9Lm4R,{list_hash(ListType.EMAIL, {'email': 'nobody@example.org'})}\n"
    )
    out = run("drop", "import", str(listed))
    assert "2 work items, 1 matched, 0 withdrawn, 1 bad line(s)" in out
    assert f"{stem} line 3: the ID is not 12 letters and digits" in out
    status = run("drop", "status")
    assert "(45 days left)" in status
    assert "not found  1" in status and "waiting    1" in status
    written = run("drop", "status-file", "--out", str(tmp_path / "up")).split()
    assert [Path(p).name for p in written] == [f"{stem}.csv"]
    assert Path(written[0]).read_text() == "Id,Status\nB7kP2xQ9Lm4R,5\n"
    again = runner.invoke(app, ["drop", "import", str(listed)])
    assert again.exit_code == 2 and "imported already" in again.output  # a conflict
    refused = runner.invoke(app, ["drop", "download"])
    assert refused.exit_code == 1 and "RIGHTFUL_DROP_API_ENABLED" in refused.output


def test_the_status_shows_the_index_built_refreshed_and_stale(
    cli_env: Path, tmp_path: Path
) -> None:
    listed = tmp_path / f"{utcnow():%Y%m%d}_4821_Email.csv"
    listed.write_text(
        f"ID,Hash\nA7kP2xQ9Lm4R,{list_hash(ListType.EMAIL, {'email': 'nobody@example.org'})}\n"
    )
    run("drop", "import", str(listed))
    status = run("drop", "status")
    assert f"Index: built {utcnow():%Y-%m-%d}" in status
    assert "entries from" in status and "STALE" not in status
    later = utcnow() + timedelta(days=2)
    clock.freeze(later)
    try:
        assert "STALE: not refreshed for a day" in run("drop", "status")
    finally:
        clock.freeze(None)
