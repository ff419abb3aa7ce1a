"""Where the CLI keeps its data, and what it says when there is no usable store there.

These run the installed `rightful` command in a subprocess from a folder of their own, as a
newcomer would from outside the repository, with a home folder of their own too.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

RIGHTFUL = str(Path(sys.executable).parent / "rightful")
TIMEOUT_S = 120


@pytest.fixture
def elsewhere(tmp_path: Path) -> Path:
    """An empty folder outside the repository to run commands from."""
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    return folder


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """The user's home folder for the commands."""
    folder = tmp_path / "home"
    folder.mkdir()
    return folder


def rightful(*args: str, cwd: Path, home: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """Run the real CLI with no RIGHTFUL_* setting but the demo mode and `env`."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("RIGHTFUL_", "XDG_"))}
    clean.update(HOME=str(home), RIGHTFUL_DEMO_MODE="true", **env)
    return subprocess.run(
        [RIGHTFUL, *args],
        cwd=cwd,
        env=clean,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        check=False,
    )


def one_plain_line(result: subprocess.CompletedProcess[str]) -> str:
    """The single line a failed command printed on stderr, after checking it failed so."""
    assert result.returncode != 0
    assert "Traceback" not in result.stderr and result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_a_command_with_no_store_says_so_in_one_line_and_creates_nothing(
    elsewhere: Path, home: Path
) -> None:
    result = rightful("rights", "list", cwd=elsewhere, home=home)
    line = one_plain_line(result)
    default_store = home / ".local" / "share" / "rightful" / "rightful.db"
    assert line.startswith(f"Error: No Rightful store at {default_store}")
    assert "rightful db upgrade" in line
    assert list(elsewhere.iterdir()) == []  # no ./var/rightful.db
    assert not default_store.parent.exists()


def test_the_store_lives_in_the_users_data_folder_unless_rightful_data_dir_says_otherwise(
    elsewhere: Path, home: Path, tmp_path: Path
) -> None:
    assert rightful("db", "upgrade", cwd=elsewhere, home=home).returncode == 0
    assert (home / ".local" / "share" / "rightful" / "rightful.db").is_file()
    assert list(elsewhere.iterdir()) == []
    listed = rightful("rights", "list", cwd=home, home=home)  # from any folder
    assert listed.returncode == 0, listed.stderr

    xdg = tmp_path / "xdg"
    assert (
        rightful("db", "upgrade", cwd=elsewhere, home=home, XDG_DATA_HOME=str(xdg)).returncode == 0
    )
    assert (xdg / "rightful" / "rightful.db").is_file()
    chosen = tmp_path / "chosen"
    done = rightful("db", "upgrade", cwd=elsewhere, home=home, RIGHTFUL_DATA_DIR=str(chosen))
    assert done.returncode == 0 and (chosen / "rightful.db").is_file()


def test_an_unmigrated_or_outdated_store_says_to_upgrade_in_one_line(
    elsewhere: Path, home: Path, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    sqlite3.connect(data / "rightful.db").close()  # a file with no tables
    line = one_plain_line(
        rightful("rights", "list", cwd=elsewhere, home=home, RIGHTFUL_DATA_DIR=str(data))
    )
    assert "no tables" in line and "rightful db upgrade" in line

    assert (
        rightful("db", "upgrade", cwd=elsewhere, home=home, RIGHTFUL_DATA_DIR=str(data)).returncode
        == 0
    )
    with sqlite3.connect(data / "rightful.db") as db:
        db.execute("UPDATE alembic_version SET version_num = '0012'")
    line = one_plain_line(
        rightful("rights", "list", cwd=elsewhere, home=home, RIGHTFUL_DATA_DIR=str(data))
    )
    assert "0012" in line and "rightful db upgrade" in line
