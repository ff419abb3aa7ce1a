"""Batches as CSV files: reading one (`rightful rights import`) and writing its report.

Columns are named as the API's fields (`request_type`, `email`, `received_at`, `external_id`,
...); a detail the company configured is a column `other_points.KEY`. An empty cell is a field
left out. Line numbers are the file's own, the header being line 1, as a spreadsheet shows them.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from rightful.core.errors import InvalidInputError
from rightful.rights.bulk import Line
from rightful.rights.bulk_schemas import BatchLine, BatchReport

OTHER = "other_points."
COLUMNS = frozenset(BatchLine.model_fields) - {"other_points"}
REPORT_COLUMNS = ("line", "external_id", "outcome", "reference", "field", "message")


def _text(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")  # a spreadsheet's "CSV UTF-8" starts with a BOM
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InvalidInputError(
            f'Line {line} of the file is not UTF-8 text. Save it as "CSV UTF-8" and try again.'
        ) from None


def _header(names: list[str]) -> list[str]:
    cleaned = [n.strip() for n in names]
    unknown = [n for n in cleaned if n and n not in COLUMNS and not n.startswith(OTHER)]
    if unknown:
        raise InvalidInputError(
            "The file has columns Rightful does not know: "
            + ", ".join(repr(n) for n in unknown)
            + ". Columns are named as the API's fields (docs/bulk-intake.md), e.g. "
            "external_id, request_type, email, received_at.",
            errors=[{"field": n, "message": "Not a field of a request."} for n in unknown],
        )
    if "external_id" not in cleaned:
        raise InvalidInputError(
            "The file has no external_id column: each line needs the sender's own reference, "
            "so that importing the file again files nothing twice."
        )
    return cleaned


def _values(header: list[str], row: list[str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    others: dict[str, str] = {}
    for name, cell in zip(header, row, strict=False):
        if not name or not cell.strip():
            continue  # an empty cell is a field left out
        if name.startswith(OTHER):
            others[name.removeprefix(OTHER)] = cell
        else:
            values[name] = cell
    if others:
        values["other_points"] = others
    return values


def read_csv(data: bytes) -> list[Line]:
    """The lines of a CSV file, each numbered as the file numbers it (InvalidInputError for a
    file that cannot be read as a batch at all)."""
    reader = csv.reader(io.StringIO(_text(data), newline=""))
    try:
        header = _header(next(reader))
    except StopIteration:
        raise InvalidInputError("The file is empty.") from None
    lines: list[Line] = []
    try:
        while True:
            number = reader.line_num + 1  # where the row starts (a quoted cell may span lines)
            try:
                row = next(reader)
            except StopIteration:
                break
            if not any(cell.strip() for cell in row):
                continue
            spare = len(row) > len(header) and any(c.strip() for c in row[len(header) :])
            problem = (f"The line has {len(row)} cells; the header names {len(header)}.",)
            lines.append(Line(number, _values(header, row), problem if spare else ()))
    except csv.Error as exc:
        raise InvalidInputError(
            f"Line {reader.line_num} of the file is not valid CSV: {exc}."
        ) from None
    return lines


def report_rows(report: BatchReport) -> Iterator[dict[str, object]]:
    """The report as rows, one a line (one an error for a rejected line), in line order."""
    rows: list[dict[str, object]] = []
    outcome = "would_import" if report.dry_run else "imported"
    for ok in report.imported:
        rows.append(
            {
                "line": ok.line,
                "external_id": ok.external_id,
                "outcome": outcome,
                "reference": ok.reference,
            }
        )
    for dup in report.duplicates:
        rows.append(
            {
                "line": dup.line,
                "external_id": dup.external_id,
                "outcome": "already_imported",
                "reference": dup.reference,
            }
        )
    for bad in report.rejected:
        for err in bad.errors:
            rows.append(
                {
                    "line": bad.line,
                    "external_id": bad.external_id or "",
                    "outcome": "rejected",
                    "field": err.field,
                    "message": err.message,
                }
            )
    yield from sorted(rows, key=lambda r: int(str(r["line"])))


def write_report(report: BatchReport, path: Path) -> None:
    """Write the report as CSV (UTF-8), for a spreadsheet or the sender."""
    _write(report_rows(report), path)


def _write(rows: Iterable[dict[str, object]], path: Path) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=REPORT_COLUMNS, restval="")
        writer.writeheader()
        writer.writerows(rows)
