"""The access package: JSON, one CSV per collection and a readable page, zipped and encrypted.

Which rows and values go in is decided in `package_rows`, what the readable page shows in
`package_page`; this module writes them.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from rightful.connectors.base import Row
from rightful.core.files import private_dir, write_private
from rightful.rights.package_page import build_page, moment
from rightful.rights.package_rows import PackageContent, assemble
from rightful.rights.withholding import WITHHELD
from rightful.security.vault import Vault

__all__ = [
    "WITHHELD",
    "PackageContent",
    "assemble",
    "load",
    "readable",
    "render_zip",
    "spreadsheet_safe",
    "store",
]

_PAGES = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(["html"]),
)


def readable(value: Any) -> str:
    """A value as a person reads it: `July 24, 2023, 12:00`, not `2023-07-24T12:00:00`."""
    return moment(str(value))


_PAGES.filters["readable"] = readable

# A spreadsheet runs a cell starting with one of these as a formula (OWASP, CSV injection).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: Any) -> Any:
    """A CSV cell no spreadsheet runs as a formula: a leading `'` before `=`, `+`, `-`, `@`,
    tab or carriage return. Numbers stay numbers; data.json keeps the true value."""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def _csv(rows: list[Row]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows({k: spreadsheet_safe(v) for k, v in row.items()} for row in rows)
    return buf.getvalue()


def render_zip(
    content: PackageContent,
    *,
    meta: dict[str, Any],
    template: str = "package.html",
    extra: dict[str, Any] | None = None,
) -> bytes:
    """The zip: data.json, csv/<system>/<collection>.csv and index.html."""
    records = content.records
    payload = {
        "request": meta,
        "data": records,
        "withheld": content.withheld,
        **(extra or {}),
    }
    page = _PAGES.get_template(template).render(
        meta=meta, content=content, page=build_page(content), extra=extra or {}
    )
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("index.html", page)
        zf.writestr("data.json", json.dumps(payload, indent=2, ensure_ascii=False, default=str))
        for system, colls in records.items():
            for name, rows in colls.items():
                zf.writestr(f"csv/{system}/{name}.csv", _csv(rows))
        zf.writestr(
            "README.txt",
            "Open index.html in a browser to read your information.\n"
            "data.json and the csv folder hold the same information for other programs.\n"
            "Text cells in the csv files that begin with = + - or @ start with an apostrophe,\n"
            "so that a spreadsheet shows them as text instead of running them; data.json holds\n"
            "them exactly.\n",
        )
    return buf.getvalue()


def store(vault: Vault, directory: Path, request_id: str, data: bytes) -> str:
    """Encrypt and write the package; returns the file name. Safe to repeat."""
    private_dir(directory)
    name = f"{request_id}.zip.enc"
    tmp = directory / f"{name}.tmp"
    write_private(tmp, vault.encrypt(data))
    tmp.replace(directory / name)  # atomic: a crash never leaves half a package
    return name


def load(vault: Vault, directory: Path, name: str) -> bytes:
    """Decrypt a stored package."""
    return vault.decrypt((directory / name).read_bytes())
