"""Reading DROP's deletion lists: a ZIP of CSV files, or one CSV, streamed line by line.

Each list file is named <YYYYMMDD>_<DataBrokerId>_<DataType>[_<Suffix>].csv and has the header
`ID,Hash`; the Removed file has `ID,Hash,ListType` (identifiers a consumer withdrew). Lines are
yielded in chunks so a million-line list never sits in memory; a bad line is reported by file and
line number, never stopping the others.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import IO

from rightful.core.errors import InvalidInputError
from rightful.drop.hashing import ListType, list_type_of

FILE_NAME = re.compile(
    r"^(?P<date>\d{8})_(?P<broker>\d{1,10})_(?P<type>[A-Za-z]+)(?:_(?P<suffix>[A-Za-z0-9]{1,10}))?$"
)
ITEM_ID = re.compile(r"^[A-Za-z0-9]{12}$")
HASH = re.compile(r"^[A-Za-z0-9+/]{43}=$")
REMOVED = "Removed"
CHUNK = 10_000
MAX_PROBLEMS = 100


@dataclass(frozen=True)
class Line:
    """One good line: a work item to match, or (list_type given by the line) one removed."""

    item_id: str
    hash: str
    list_type: ListType
    file_name: str
    removed: bool = False


@dataclass
class Problems:
    """Bad lines, counted; the first MAX_PROBLEMS kept by file and line number."""

    count: int = 0
    first: list[dict[str, object]] = field(default_factory=list)

    def add(self, file: str, line: int, reason: str) -> None:
        """Count a bad line (its content is never kept)."""
        self.count += 1
        if len(self.first) < MAX_PROBLEMS:
            self.first.append({"file": file, "line": line, "reason": reason})


@dataclass(frozen=True)
class ListFile:
    """A list file's name, parts and type."""

    stem: str
    date: str
    broker_id: str
    data_type: str

    @property
    def removed(self) -> bool:
        """Whether this is the file of withdrawn identifiers."""
        return self.data_type.lower() == REMOVED.lower()


def parse_name(name: str) -> ListFile:
    """A list file's name as DROP writes it; InvalidInputError naming the pattern otherwise."""
    stem = Path(name).name.removesuffix(".csv").removesuffix(".CSV")
    found = FILE_NAME.match(stem)
    if not found:
        raise InvalidInputError(
            f"{Path(name).name} is not named as DROP names its lists: "
            "<YYYYMMDD>_<DataBrokerId>_<DataType>[_<Suffix>].csv."
        )
    data_type = found["type"]
    if data_type.lower() != REMOVED.lower():
        data_type = list_type_of(data_type).value
    return ListFile(stem, found["date"], found["broker"], data_type)


def _rows(text: IO[str], lf: ListFile, problems: Problems) -> Iterator[Line]:
    reader = csv.reader(text)
    header = next(reader, None)
    want = ["ID", "Hash", "ListType"] if lf.removed else ["ID", "Hash"]
    if header is None or [h.strip().lstrip("\ufeff") for h in header] != want:
        problems.add(lf.stem, 1, f"the header is not {','.join(want)}; the file was skipped")
        return
    for number, row in enumerate(reader, start=2):
        if not row or row == [""]:
            continue
        if len(row) != len(want):
            problems.add(lf.stem, number, f"{len(row)} columns, {len(want)} expected")
            continue
        item_id, value = row[0].strip(), row[1].strip()
        if not ITEM_ID.match(item_id):
            problems.add(lf.stem, number, "the ID is not 12 letters and digits")
            continue
        if not HASH.match(value):
            problems.add(lf.stem, number, "the Hash is not a Base64 SHA-256 (44 characters)")
            continue
        try:
            kind = list_type_of(row[2] if lf.removed else lf.data_type)
        except InvalidInputError:
            problems.add(lf.stem, number, "unknown ListType")
            continue
        yield Line(item_id, value, kind, lf.stem, removed=lf.removed)


def _members(path: Path) -> Iterator[tuple[str, IO[bytes]]]:
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            for info in archive.infolist():
                if not info.is_dir():
                    with archive.open(info) as handle:
                        yield info.filename, handle
    else:
        with path.open("rb") as handle:
            yield path.name, handle


def read_lines(path: Path, problems: Problems) -> Iterator[list[Line]]:
    """Every good line of a ZIP or a CSV, in chunks; bad lines and files go to `problems`."""
    chunk: list[Line] = []
    for member, handle in _members(path):
        if not member.lower().endswith(".csv"):
            problems.add(Path(member).name, 0, "not a CSV file; skipped")
            continue
        try:
            lf = parse_name(member)
        except InvalidInputError as exc:
            problems.add(Path(member).name, 0, f"{exc.detail}; skipped")
            continue
        text = io.TextIOWrapper(handle, encoding="utf-8-sig", errors="replace", newline="")
        for line in _rows(text, lf, problems):
            chunk.append(line)
            if len(chunk) >= CHUNK:
                yield chunk
                chunk = []
    if chunk:
        yield chunk


def date_of(path: Path) -> date | None:
    """The date in a download's name (20260312_4821_DROP.zip -> 2026-03-12), or None."""
    found = re.match(r"^(\d{4})(\d{2})(\d{2})_", path.name)
    if not found:
        return None
    try:
        return date(int(found[1]), int(found[2]), int(found[3]))
    except ValueError:
        return None


def broker_of(path: Path) -> str:
    """The data broker id in a download's name (20260312_4821_DROP.zip -> 4821), or ''."""
    found = re.match(r"^\d{8}_(\d{1,10})_", path.name)
    return found[1] if found else ""
