"""Where sealed values live: columns marked `info=sealed(purpose)` and folders of sealed files,
and how many values each holds under a data-key version."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Column, MetaData, Table, and_, func, not_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from rightful.security.keys import DERIVED
from rightful.security.vault import SEALED, version_of


@dataclass(frozen=True)
class SealedColumn:
    """A column of sealed values."""

    table: Table
    column: Column[Any]
    purpose: str

    @property
    def name(self) -> str:
        """How progress and status name it."""
        return f"{self.table.name}.{self.column.name}"

    @property
    def key(self) -> Column[Any]:
        """The table's primary key, which batches follow."""
        return next(iter(self.table.primary_key.columns))


@dataclass(frozen=True)
class SealedFolder:
    """A folder of sealed files (access packages)."""

    folder: Path
    purpose: str

    @property
    def name(self) -> str:
        """How progress and status name it."""
        return f"files:{self.folder.name}"

    def files(self) -> list[str]:
        """The sealed files, by name."""
        if not self.folder.is_dir():
            return []
        return sorted(p.name for p in self.folder.iterdir() if p.name.endswith(".enc"))


Target = SealedColumn | SealedFolder


def sealed_targets(metadata: MetaData, folders: list[SealedFolder]) -> list[Target]:
    """Every column marked sealed in `metadata` (all models imported), and `folders`."""
    found: list[Target] = [
        SealedColumn(table, column, column.info[SEALED])
        for table in metadata.sorted_tables
        for column in table.columns
        if SEALED in column.info
    ]
    return found + list(folders)


def on_version(column: Column[Any], version: int) -> ColumnElement[bool]:
    """Values of `column` sealed with `version`."""
    if version == DERIVED:  # no prefix: a Fernet token starts with 'gAAAA'
        return not_(column.like("v%"))
    return column.like(f"v{version}:%")


def count(session: Session, target: Target, version: int, *, older: bool = False) -> int:
    """Values sealed with `version` (or, `older`, with any other: older, when it is newest)."""
    if isinstance(target, SealedFolder):
        found = (_file_version(target.folder / name) for name in target.files())
        return sum(1 for v in found if v is not None and (v != version if older else v == version))
    column = target.column
    if older:
        where = and_(column.is_not(None), not_(on_version(column, version)))
    else:
        where = on_version(column, version)
    return int(session.scalar(select(func.count()).select_from(target.table).where(where)) or 0)


def _file_version(path: Path) -> int | None:
    try:
        with path.open("rb") as file:
            return version_of(file.read(12))
    except FileNotFoundError:  # expired and removed meanwhile
        return None


def usage(session: Session, targets: list[Target], version: int) -> dict[str, int]:
    """How many values each target still has sealed with `version` (targets with none left
    out)."""
    counts = {t.name: count(session, t, version) for t in targets}
    return {name: n for name, n in counts.items() if n}
