"""What Rightful writes under its data folder only its own user can read, whatever the umask."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from rightful.core.runtime import build_runtime
from rightful.demo.estate import demo_urls
from rightful.migrations import upgrade
from rightful.rights.package import load, store
from rightful.rights.packaging import package_vault
from tests.support.app import make_settings


@pytest.fixture(autouse=True)
def common_umask() -> Iterator[None]:
    """The umask most systems start with: new files readable by everyone unless set otherwise."""
    before = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(before)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_store_its_folder_and_its_journal_files_are_private(tmp_path: Path) -> None:
    data = tmp_path / "data"
    runtime = build_runtime(make_settings(data))
    upgrade(runtime.engine)
    with runtime.engine.connect():  # holds the -wal and -shm files open
        assert mode(data) == 0o700
        assert mode(data / "rightful.db") == 0o600
        assert mode(data / "rightful.db-wal") == 0o600
        assert mode(data / "rightful.db-shm") == 0o600
    runtime.engine.dispose()


def test_a_store_left_readable_by_everyone_is_made_private(tmp_path: Path) -> None:
    earlier = tmp_path / "rightful.db"
    earlier.write_bytes(b"")
    earlier.chmod(0o644)
    build_runtime(make_settings(tmp_path)).engine.dispose()
    assert mode(earlier) == 0o600


def test_a_data_folder_the_operator_made_is_left_as_it_is(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    build_runtime(make_settings(shared)).engine.dispose()
    assert mode(shared) == 0o755
    assert mode(shared / "rightful.db") == 0o600


def test_access_packages_and_their_folder_are_private(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    settings.package_dir.mkdir(mode=0o755)  # as an earlier Rightful left it
    name = store(package_vault(settings), settings.package_dir, "r1", b"a zip")
    assert mode(settings.package_dir) == 0o700
    assert mode(settings.package_dir / name) == 0o600
    assert load(package_vault(settings), settings.package_dir, name) == b"a zip"


def test_the_demo_companys_databases_are_in_a_private_folder(tmp_path: Path) -> None:
    demo_urls(tmp_path)
    assert mode(tmp_path / "estate") == 0o700
