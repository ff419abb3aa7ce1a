"""Files and folders that hold personal data: only Rightful's own user may read them.

Modes are set explicitly, not left to the umask: a common umask (022) would make every new file
readable by any account on the machine."""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy.engine import make_url

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600
SQLITE_SIDE_FILES = ("-wal", "-shm", "-journal")


def private_dir(path: Path) -> Path:
    """Create a folder (and any missing parents) that only its owner can open; tighten it if it
    is already there (it is Rightful's own, like the package folder)."""
    path.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR)
    path.chmod(PRIVATE_DIR)  # mkdir's mode passes through the umask; an old folder keeps its own
    return path


def new_private_dir(path: Path) -> Path:
    """Create a folder only its owner can open, leaving a folder that is already there as it is
    (the data directory may be one the operator shares with other things)."""
    if not path.is_dir():
        private_dir(path)
    return path


def write_private(path: Path, data: bytes) -> None:
    """Write a file only its owner can read, whatever the umask and whatever the file's mode was."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE)
    with os.fdopen(fd, "wb") as file:
        os.fchmod(fd, PRIVATE_FILE)
        file.write(data)


def private_sqlite_file(url: str) -> None:
    """Before SQLite opens a file store: create it owner-only, or tighten the one there.

    SQLite gives its -wal and -shm files the database file's mode, so they follow."""
    parsed = make_url(url)
    database = parsed.database
    if parsed.get_backend_name() != "sqlite" or not database or database == ":memory:":
        return
    if database.startswith("file:") or parsed.query.get("mode") == "memory":
        return  # a URI filename: SQLite's own syntax, left to the operator
    store = Path(database)
    if not store.parent.is_dir():
        return  # SQLite says so when it connects, as it always has
    os.close(os.open(store, os.O_WRONLY | os.O_CREAT, PRIVATE_FILE))
    for path in (store, *(store.with_name(store.name + end) for end in SQLITE_SIDE_FILES)):
        if path.exists():
            path.chmod(PRIVATE_FILE)
